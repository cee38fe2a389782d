/* <stdlib.h> for programs built on barealloc (barealloc-gcc puts this
 * directory on the include path): the parts barealloc implements, the
 * allocation family.  A program written against the standard header for
 * those compiles unchanged; the rest of <stdlib.h> (exit, qsort, getenv...)
 * is not here, because nothing implements it. */
#ifndef BA_STDLIB_H
#define BA_STDLIB_H

#include "barealloc.h"

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

#endif
