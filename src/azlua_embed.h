/* Internal: the tables generated at build time (see cmake/embed_lua.cmake, cmake/modules.c.in). */
#ifndef AZLUA_EMBED_H
#define AZLUA_EMBED_H

#include <stddef.h>
#include <lua.h>

struct azlua_embedded {
  const char *module;    /* "azure.arm" */
  const char *chunkname; /* "@lua/azure/arm.lua", so tracebacks name the source file */
  const char *source;
  size_t len;
};

struct azlua_cmodule {
  const char *module; /* "azure.core.json" */
  lua_CFunction open;
};

extern const struct azlua_embedded azlua_embedded_sources[];
extern const struct azlua_cmodule azlua_cmodules[];

#endif
