# tg_add_library(NAME OUTPUT_NAME EXPORT_NAME OBJECTS [SHARED_EXTRA objlib...])
#
# One library in two forms from one compilation: the object library
# ${OBJECTS} (position-independent, hidden visibility) becomes
# ${NAME}_static (lib${OUTPUT_NAME}.a) and ${NAME} (lib${OUTPUT_NAME}.so,
# versioned). SHARED_EXTRA lists object libraries only the shared form
# carries, hidden: the static form finds those symbols in libtoolgate.a.
function(tg_add_library name output export objects)
  cmake_parse_arguments(ARG "" "" "SHARED_EXTRA" ${ARGN})
  set(shared_objects $<TARGET_OBJECTS:${objects}>)
  foreach(extra ${ARG_SHARED_EXTRA})
    list(APPEND shared_objects $<TARGET_OBJECTS:${extra}>)
  endforeach()
  add_library(${name}_static STATIC $<TARGET_OBJECTS:${objects}>)
  add_library(${name} SHARED ${shared_objects})
  foreach(t ${name} ${name}_static)
    target_include_directories(${t} PUBLIC "$<BUILD_INTERFACE:${TG_PUBLIC_INCLUDE}>"
                               $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
    set_target_properties(${t} PROPERTIES OUTPUT_NAME ${output})
  endforeach()
  set_target_properties(${name}_static PROPERTIES EXPORT_NAME ${export}_static)
  set_target_properties(${name} PROPERTIES EXPORT_NAME ${export} VERSION ${PROJECT_VERSION}
                        SOVERSION ${TG_SOVERSION} C_VISIBILITY_PRESET hidden)
  add_library(toolgate::${export} ALIAS ${name})
  add_library(toolgate::${export}_static ALIAS ${name}_static)
endfunction()

# An object library compiled once for both forms of a library.
function(tg_add_objects name)
  add_library(${name} OBJECT ${ARGN})
  target_include_directories(${name} PUBLIC ${TG_PUBLIC_INCLUDE}
                             PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_definitions(${name} PRIVATE TG_BUILDING_LIBRARY)
  set_target_properties(${name} PROPERTIES C_VISIBILITY_PRESET hidden
                        POSITION_INDEPENDENT_CODE ON)
endfunction()
