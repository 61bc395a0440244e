/* Ctrl-C reaches C code that waits (HTTP transfers, sleeps) through this flag: the host's SIGINT
 * handler sets it, and a waiting loop that sees it stops and raises "interrupted!" in Lua. */
#ifndef AZLUA_INTERRUPT_H
#define AZLUA_INTERRUPT_H

#include <signal.h>

extern volatile sig_atomic_t azlua_interrupted;

/* Clears the flag (the host does this before each call it runs). */
void azlua_interrupt_clear(void);

#endif
