# Install rules: libraries (shared and static), public headers, pkg-config
# files, a CMake package (find_package(toolgate) gives toolgate::toolgate,
# toolgate::mcp, toolgate::compiler and their _static forms), the command
# and man pages.
include(CMakePackageConfigHelpers)

set(TG_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/toolgate)
set(TG_INSTALL_TARGETS toolgate toolgate_static)
if(TG_BUILD_COMPILER)
  list(APPEND TG_INSTALL_TARGETS toolgate_compiler toolgate_compiler_static)
endif()
if(TG_BUILD_MCP)
  list(APPEND TG_INSTALL_TARGETS toolgate_mcp toolgate_mcp_static)
endif()

install(TARGETS ${TG_INSTALL_TARGETS} EXPORT toolgateTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
                NAMELINK_COMPONENT development
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/toolgate/toolgate.h
              ${PROJECT_BINARY_DIR}/include/toolgate/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/toolgate COMPONENT development)
if(TG_BUILD_COMPILER)
  install(FILES ${PROJECT_SOURCE_DIR}/include/toolgate/compiler.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/toolgate COMPONENT development)
endif()
if(TG_BUILD_MCP)
  install(FILES ${PROJECT_SOURCE_DIR}/include/toolgate/mcp.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/toolgate COMPONENT development)
endif()

install(EXPORT toolgateTargets NAMESPACE toolgate:: DESTINATION ${TG_INSTALL_CMAKEDIR}
        COMPONENT development)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/toolgateConfig.cmake.in
  ${PROJECT_BINARY_DIR}/toolgateConfig.cmake INSTALL_DESTINATION ${TG_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/toolgateConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/toolgateConfig.cmake
              ${PROJECT_BINARY_DIR}/toolgateConfigVersion.cmake
        DESTINATION ${TG_INSTALL_CMAKEDIR} COMPONENT development)

# pkg-config: the prefix is found from the .pc file's own place, so a tree
# installed with --prefix or DESTDIR, or moved, still works.
file(RELATIVE_PATH TG_PC_UP ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" TG_PC_UP "${TG_PC_UP}")
foreach(pc toolgate toolgate-compiler toolgate-mcp)
  if((pc STREQUAL "toolgate-compiler" AND NOT TG_BUILD_COMPILER) OR
     (pc STREQUAL "toolgate-mcp" AND NOT TG_BUILD_MCP))
    continue()
  endif()
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT development)
endforeach()

if(TG_BUILD_TOOLS)
  install(TARGETS toolgate-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
  install(FILES ${PROJECT_SOURCE_DIR}/docs/man/toolgate.1
          DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tools)
endif()
install(FILES ${PROJECT_SOURCE_DIR}/docs/man/libtoolgate.3
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man3 COMPONENT development)
