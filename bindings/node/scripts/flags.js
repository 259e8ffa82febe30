'use strict';
// Prints the compiler or linker flags binding.gyp needs to build against
// toolgate's libraries:
//   - TOOLGATE_BUILD_DIR=DIR: a CMake build tree of toolgate (headers from
//     its source tree and DIR/include, libraries from DIR/lib); what the
//     project's own tests use;
//   - otherwise pkg-config's toolgate-mcp and toolgate-compiler (set
//     PKG_CONFIG_PATH=PREFIX/lib/pkgconfig for a prefix it does not search).
// An rpath to the library directory is added so that the addon finds the
// libraries it was built against without LD_LIBRARY_PATH.
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const what = process.argv[2];
const fail = (msg) => {
  process.stderr.write(`toolgate: ${msg}\n`);
  process.exit(1);
};

function fromBuildDir(dir) {
  const build = path.resolve(dir);
  const cache = fs.readFileSync(path.join(build, 'CMakeCache.txt'), 'utf8');
  const m = /^toolgate_SOURCE_DIR:STATIC=(.*)$/m.exec(cache) ||
    /^CMAKE_HOME_DIRECTORY:INTERNAL=(.*)$/m.exec(cache);
  if (!m) fail(`${build} is not a CMake build tree of toolgate`);
  const lib = path.join(build, 'lib');
  return {
    cflags: [`-I${path.join(m[1], 'include')}`, `-I${path.join(build, 'include')}`],
    libs: [`-L${lib}`, '-ltoolgate-mcp', '-ltoolgate-compiler', '-ltoolgate'],
    ldflags: [`-Wl,-rpath,${lib}`],
  };
}

function fromPkgConfig() {
  const pc = (...args) => {
    try {
      return execFileSync('pkg-config', args, { encoding: 'utf8' }).trim();
    } catch {
      fail('pkg-config cannot find toolgate-mcp and toolgate-compiler: install toolgate ' +
        '(cmake --install BUILD --prefix PREFIX) and set PKG_CONFIG_PATH=PREFIX/lib/pkgconfig, ' +
        'or set TOOLGATE_BUILD_DIR to a build tree');
    }
  };
  const mods = ['toolgate-mcp', 'toolgate-compiler'];
  const libdir = pc('--variable=libdir', 'toolgate');
  return {
    cflags: pc('--cflags', ...mods).split(/\s+/).filter(Boolean),
    libs: pc('--libs', ...mods).split(/\s+/).filter(Boolean),
    ldflags: libdir ? [`-Wl,-rpath,${libdir}`] : [],
  };
}

const flags = process.env.TOOLGATE_BUILD_DIR ? fromBuildDir(process.env.TOOLGATE_BUILD_DIR) : fromPkgConfig();
if (!(what in flags)) fail(`usage: flags.js cflags|libs|ldflags`);
process.stdout.write(flags[what].join(' ') + '\n');
