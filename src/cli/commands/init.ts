// `osv init`: write a commented osv.yaml that validates.

import type { CommandModule } from '../command.js';
import type { InitCliOptions } from '../../config/cli.js';

export const command: CommandModule = {
  register(program) {
    program
      .command('init')
      .summary('write a commented osv.yaml for this directory')
      .description(
        'Write osv.yaml in this directory: the image name, the program to boot, commented examples of the ' +
          'common options, the kernel it will boot, and the editor schema line. The program\'s runtime is ' +
          'recognised (a python3 interpreter, venvs and pyenv/asdf shims included; node; java -jar or -cp) and ' +
          'its template chosen, with the arguments mapped into it: the script or jar into files, and for Python ' +
          'the packages the code imports from a venv or dist-packages, one tree per package. One line says which ' +
          'template and why. The file is validated before it is written. An existing file is kept unless ' +
          '--force. `.osv/` (the build cache) is added to .gitignore.',
      )
      .argument('[command...]', 'the program to boot and its arguments (put `--` before them when they start with -); default: echo "Hello from OSv"')
      .option('-t, --template <name>', 'the built-in template to extend ("none" for none); default: the one for the program\'s runtime (python, node, java), else native')
      .option('-f, --force', 'overwrite an existing file')
      .option('-c, --config <file>', 'write this file instead of ./osv.yaml')
      .option('--json', 'print the result as JSON')
      .addHelpText(
        'after',
        `
Examples:
  $ osv init                              boot echo "Hello from OSv"
  $ osv init ./build/server               boot your program
  $ osv init -- /usr/bin/python3 app.py   template:python, app.py and the packages it imports
  $ osv init -- node server.js            template:node
  $ osv init -- java -jar app.jar         template:java
  $ osv init --template none --force      start over, without a template`,
      )
      .action(async (command: string[], opts: InitCliOptions) => {
        const { initCommand } = await import('../../config/cli.js');
        await initCommand(command, opts);
      });
  },
};
