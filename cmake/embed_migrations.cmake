# Writes a C++ source defining db::embedded_migrations() from sql/NNNN_*.sql.
file(GLOB files ${SQL_DIR}/*.sql)
list(SORT files)
set(body "")
foreach(file ${files})
  get_filename_component(name ${file} NAME)
  string(REGEX MATCH "^([0-9]+)_" _ ${name})
  if(NOT CMAKE_MATCH_1)
    message(FATAL_ERROR "migration ${name}: the name must start with NNNN_")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")
  file(READ ${file} sql)
  string(FIND "${sql}" ")__sql__" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "migration ${name} contains the raw-string delimiter )__sql__")
  endif()
  string(APPEND body "    {${version}, \"${name}\", R\"__sql__(${sql})__sql__\"},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp "// Generated from sql/*.sql by cmake/embed_migrations.cmake. Do not edit.
#include \"huntaze/db/migrations.hpp\"

namespace huntaze::db {

const std::vector<Migration>& embedded_migrations() {
  static const std::vector<Migration> migrations = {
${body}  };
  return migrations;
}

}  // namespace huntaze::db
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
