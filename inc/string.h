/* <string.h> for programs built on barealloc (barealloc-gcc puts this
 * directory on the include path): the byte loops barealloc implements,
 * memcpy, memmove, memset and memcmp.  Nothing else of <string.h> is
 * implemented, so nothing else is declared. */
#ifndef BA_STRING_H
#define BA_STRING_H

#include "barealloc.h"

#endif
