# Embeds a text file in the build as `const char <symbol>[]` in namespace `ck`.
# ck_embed_text(<out_var> <symbol> <file>): appends the generated .cc to <out_var>.
function(ck_embed_text out_var symbol file)
  set(output "${CMAKE_CURRENT_BINARY_DIR}/${symbol}.cc")
  file(READ "${file}" content)
  string(FIND "${content}" ")embedded\"" collision)
  if(NOT collision EQUAL -1)
    message(FATAL_ERROR "${file} contains the embedding delimiter")
  endif()
  file(CONFIGURE OUTPUT "${output}" CONTENT
    "// Generated from ${file}: do not edit.\nnamespace ck {\nextern const char ${symbol}[];\nconst char ${symbol}[] = R\"embedded(@content@)embedded\";\n}  // namespace ck\n"
    @ONLY)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${file}")
  set(${out_var} ${${out_var}} "${output}" PARENT_SCOPE)
endfunction()
