# node-gyp build of the addon. Compiler and linker flags come from
# scripts/flags.js: pkg-config (toolgate-mcp, toolgate-compiler) for an
# installed toolgate, or TOOLGATE_BUILD_DIR for a build tree.
{
  "targets": [
    {
      "target_name": "toolgate",
      "sources": ["src/addon.c"],
      "cflags_c": ["-std=c11", "-Wall", "-Wextra"],
      "cflags": ["<!@(node scripts/flags.js cflags)"],
      "libraries": ["<!@(node scripts/flags.js libs)"],
      "ldflags": ["<!@(node scripts/flags.js ldflags)"]
    }
  ]
}
