# Writes the bash and zsh completion scripts with the built retirectl (`retirectl completion SHELL`).
# Called by src/cli/CMakeLists.txt with -DEXE=<retirectl> -DOUT_DIR=<folder>.
set(ENV{ASAN_OPTIONS} "detect_leaks=0")
file(MAKE_DIRECTORY ${OUT_DIR})
foreach(pair "bash;retirectl" "zsh;_retirectl")
  list(GET pair 0 shell)
  list(GET pair 1 name)
  execute_process(COMMAND ${EXE} completion ${shell} OUTPUT_FILE ${OUT_DIR}/${name} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "retirectl completion ${shell} failed (${rc})")
  endif()
endforeach()
