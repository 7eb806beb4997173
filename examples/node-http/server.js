// A minimal Node.js HTTP server; OSv runs the unmodified node binary.
const http = require('node:http');
const port = Number(process.env.PORT || 8080);
http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hello from node ${process.version} on OSv\n`);
  })
  .listen(port, () => console.log(`listening on ${port}`));
