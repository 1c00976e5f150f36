# Helpers shared by every target.

# huntaze_area(<name> SOURCES ... DEPS ...)
# One static library per area (core, http, db, ...), with the project's include
# directory and, for areas that use Asio, the precompiled Boost header.
function(huntaze_area name)
  cmake_parse_arguments(ARG "ASIO" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(huntaze_${name} STATIC ${ARG_SOURCES})
  add_library(huntaze::${name} ALIAS huntaze_${name})
  target_include_directories(huntaze_${name}
    PUBLIC ${PROJECT_SOURCE_DIR}/include
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(huntaze_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  if(ARG_ASIO)
    target_precompile_headers(huntaze_${name} PRIVATE ${PROJECT_SOURCE_DIR}/src/core/pch_asio.hpp)
  endif()
endfunction()
