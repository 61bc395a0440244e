#include "util/interrupt.h"

volatile sig_atomic_t azlua_interrupted = 0;

void azlua_interrupt_clear(void) { azlua_interrupted = 0; }
