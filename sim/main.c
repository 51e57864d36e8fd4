/* Placeholder replaced by the sim implementation. */
#include <stdio.h>
int main(void) { fputs("retirectl-sim: not built yet\n", stderr); return 2; }
