/* A plain C program: OSv runs it unmodified (a dynamically linked PIE; libc comes from the kernel). */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
    printf("Hello from OSv!");
    for (int i = 1; i < argc; i++) printf(" %s", argv[i]);
    printf("\n");
    char cwd[256];
    if (getcwd(cwd, sizeof cwd)) printf("cwd=%s\n", cwd);
    return 0;
}
