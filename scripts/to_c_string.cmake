# to_c_string(FILE VAR OUT): sets OUT to "static const char VAR[] = ...;" holding FILE's text.
# Used by the generated headers of src/ui (themes) and src/cli (new-driver templates).
function(to_c_string file var out)
  file(READ ${file} text)
  string(REPLACE "\\" "\\\\" text "${text}")
  string(REPLACE "\"" "\\\"" text "${text}")
  string(REPLACE "\n" "\\n\"\n    \"" text "${text}")
  set(${out} "static const char ${var}[] =\n    \"${text}\";\n" PARENT_SCOPE)
endfunction()
