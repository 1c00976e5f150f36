# Helpers shared by every target.

# The precompiled Boost header is built once, by huntaze_pch, and reused by
# every target that includes Asio/Beast (huntaze_use_pch). One copy is ~270 MB
# with debug info; a copy per target filled small CI disks. GCC checks that a
# reusing target's flags match and otherwise compiles without it (and says so
# through -Winvalid-pch), so a mismatch is slow, never wrong.
function(huntaze_pch_target)
  # A source file is needed to own the header; it has no code of its own.
  set(empty ${CMAKE_BINARY_DIR}/huntaze_pch.cpp)
  if(NOT EXISTS ${empty})
    file(WRITE ${empty} "// Owns the shared precompiled header (cmake/huntaze.cmake).\n")
  endif()
  add_library(huntaze_pch OBJECT ${empty})
  target_link_libraries(huntaze_pch PRIVATE Boost::headers Boost::json Threads::Threads)
  target_precompile_headers(huntaze_pch PRIVATE ${PROJECT_SOURCE_DIR}/src/core/pch_asio.hpp)
endfunction()

function(huntaze_use_pch target)
  target_precompile_headers(${target} REUSE_FROM huntaze_pch)
endfunction()

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
    huntaze_use_pch(huntaze_${name})
  endif()
endfunction()
