/* placeholder */
#include <stdio.h>
int main(void) { puts("bb " BB_VERSION); return 0; }
