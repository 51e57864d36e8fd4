# Writes a C header holding themes/default.theme and themes/mono.theme as string literals.
include(${CMAKE_CURRENT_LIST_DIR}/../../scripts/to_c_string.cmake)
to_c_string(${DEFAULT} ui_builtin_default_theme d)
to_c_string(${MONO} ui_builtin_mono_theme m)
file(WRITE ${OUT}.tmp "/* Generated from the themes folder by src/ui/embed_themes.cmake; do not edit. */\n${d}${m}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
