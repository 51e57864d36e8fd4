/* completion: the bash and zsh scripts (see completion.h). Both carry the same data, one option
 * table per command ("--name=kind ..."), and walk the words typed so far the same way: the first
 * word that is not an option (or an option's value) is the command; after an option that takes
 * a value its kind decides what is offered; else options after "-", commands, or positionals. */
#include "cli/completion.h"

#include <stdio.h>
#include <string.h>

/* Writes s single-quoted for bash and zsh. */
static void put_quoted(FILE *out, const char *s)
{
    fputc('\'', out);
    for (; *s; s++) {
        if (*s == '\'') fputs("'\\''", out);
        else fputc(*s, out);
    }
    fputc('\'', out);
}

/* Writes 'kind kind ...' for args, or '--name=kind ...' when named (options). */
static void put_args(FILE *out, const cmdspec_arg *args, size_t n, int named)
{
    fputc('\'', out);
    for (size_t i = 0; i < n; i++) {
        char kind[160];
        cmdspec_kind_word(&args[i], kind, sizeof kind);
        fprintf(out, "%s%s%s%s", i ? " " : "", named ? args[i].name : "", named ? "=" : "", kind);
    }
    fputc('\'', out);
}

/* The data both shells read: _retirectl_opts and _retirectl_args keyed by command ("_" holds the
 * global options), as bash `declare -gA` or zsh `typeset -gA` arrays. */
static void put_tables(FILE *out, const completion_model *m, int zsh)
{
    fputs(zsh ? "typeset -gA _retirectl_opts _retirectl_args\n_retirectl_opts=(\n  _ " : "declare -gA _retirectl_opts=(\n  [_]=",
          out);
    put_args(out, m->globals.opts, m->globals.n_opts, 1);
    fputc('\n', out);
    for (size_t i = 0; i < m->n; i++) {
        fprintf(out, zsh ? "  %s " : "  [%s]=", m->names[i]);
        put_args(out, m->specs[i].opts, m->specs[i].n_opts, 1);
        fputc('\n', out);
    }
    fputs(zsh ? ")\n_retirectl_args=(\n" : ")\ndeclare -gA _retirectl_args=(\n", out);
    for (size_t i = 0; i < m->n; i++) {
        if (!m->specs[i].n_pos) continue;
        fprintf(out, zsh ? "  %s " : "  [%s]=", m->names[i]);
        put_args(out, m->specs[i].pos, m->specs[i].n_pos, 0);
        fputc('\n', out);
    }
    fputs(")\n", out);
}

static const char bash_body[] =
    "# _retirectl_kind CMD WORD: the kind of option WORD of CMD (\"_\": global), empty if unknown.\n"
    "_retirectl_kind() {\n"
    "  local spec\n"
    "  for spec in ${_retirectl_opts[$1]}; do\n"
    "    if [[ ${spec%%=*} == \"$2\" ]]; then echo \"${spec#*=}\"; return; fi\n"
    "  done\n"
    "}\n"
    "\n"
    "# _retirectl_offer KIND: fills COMPREPLY for the current word (uses cur, exe and globals).\n"
    "_retirectl_offer() {\n"
    "  case $1 in\n"
    "    words:*) local w=${1#words:}; COMPREPLY=($(compgen -W \"${w//,/ }\" -- \"$cur\")) ;;\n"
    "    file) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- \"$cur\") ;;\n"
    "    dir) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- \"$cur\") ;;\n"
    "    config) compopt -o filenames 2>/dev/null\n"
    "      mapfile -t COMPREPLY < <(compgen -d -- \"$cur\"; compgen -f -X '!*.y*ml' -- \"$cur\") ;;\n"
    "    theme|method)\n"
    "      COMPREPLY=($(compgen -W \"$(\"$exe\" \"${globals[@]}\" completion --list \"${1}s\" 2>/dev/null)\" -- \"$cur\")) ;;\n"
    "    *) COMPREPLY=() ;;\n"
    "  esac\n"
    "}\n"
    "\n"
    "_retirectl() {\n"
    "  local cur=${COMP_WORDS[COMP_CWORD]} exe=${COMP_WORDS[0]/#\\~/$HOME} cmd= npos=0 i w kind\n"
    "  local -a globals=()\n"
    "  COMPREPLY=()\n"
    "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
    "    w=${COMP_WORDS[i]}\n"
    "    if [[ $w == -* ]]; then\n"
    "      kind=$(_retirectl_kind \"${cmd:-_}\" \"$w\")\n"
    "      if [[ -n $kind && $kind != flag ]]; then\n"
    "        if [[ $kind == config ]]; then globals+=(--config \"${COMP_WORDS[i + 1]}\"); fi\n"
    "        if [[ $w == --driver-path ]]; then globals+=(--driver-path \"${COMP_WORDS[i + 1]}\"); fi\n"
    "        i=$((i + 1))\n"
    "      fi\n"
    "    elif [[ -z $cmd ]]; then\n"
    "      cmd=$w\n"
    "    else\n"
    "      npos=$((npos + 1))\n"
    "    fi\n"
    "  done\n"
    "  if ((COMP_CWORD > 1)) && [[ ${COMP_WORDS[COMP_CWORD - 1]} == -* ]]; then\n"
    "    kind=$(_retirectl_kind \"${cmd:-_}\" \"${COMP_WORDS[COMP_CWORD - 1]}\")\n"
    "    if [[ -n $kind && $kind != flag ]]; then _retirectl_offer \"$kind\"; return 0; fi\n"
    "  fi\n"
    "  if [[ $cur == -* ]]; then\n"
    "    local names= spec\n"
    "    for spec in ${_retirectl_opts[${cmd:-_}]}; do names+=\" ${spec%%=*}\"; done\n"
    "    COMPREPLY=($(compgen -W \"$names\" -- \"$cur\"))\n"
    "  elif [[ -z $cmd ]]; then\n"
    "    COMPREPLY=($(compgen -W \"$_retirectl_commands\" -- \"$cur\"))\n"
    "  else\n"
    "    local -a args=(${_retirectl_args[$cmd]})\n"
    "    if ((npos < ${#args[@]})); then _retirectl_offer \"${args[npos]}\"; fi\n"
    "  fi\n"
    "  return 0\n"
    "}\n"
    "complete -F _retirectl retirectl\n";

void completion_write_bash(FILE *out, const completion_model *m)
{
    fputs("# bash completion for retirectl. Generated by `retirectl completion bash` from its command\n"
          "# table and each command's --help; regenerate instead of editing. Load it with\n"
          "#   source <(retirectl completion bash)\n"
          "# or install it as /usr/share/bash-completion/completions/retirectl.\n\n"
          "_retirectl_commands=",
          out);
    fputc('\'', out);
    for (size_t i = 0; i < m->n; i++) fprintf(out, "%s%s", i ? " " : "", m->names[i]);
    fputs("'\n", out);
    put_tables(out, m, 0);
    fputc('\n', out);
    fputs(bash_body, out);
}

static const char zsh_body[] =
    "# _retirectl_kind CMD WORD: the kind of option WORD of CMD (\"_\": global), empty if unknown.\n"
    "_retirectl_kind() {\n"
    "  local spec\n"
    "  for spec in ${=_retirectl_opts[$1]}; do\n"
    "    if [[ ${spec%%=*} == \"$2\" ]]; then print -r -- \"${spec#*=}\"; return; fi\n"
    "  done\n"
    "}\n"
    "\n"
    "# _retirectl_offer KIND: offers the matches for the current word (uses exe and globals).\n"
    "_retirectl_offer() {\n"
    "  case $1 in\n"
    "    words:*) compadd -- ${(s:,:)${1#words:}} ;;\n"
    "    file) _files ;;\n"
    "    dir) _files -/ ;;\n"
    "    config) _files -g '*.(yml|yaml)(-.)' ;;\n"
    "    theme|method) compadd -- ${(f)\"$(${~exe} $globals completion --list ${1}s 2>/dev/null)\"} ;;\n"
    "  esac\n"
    "}\n"
    "\n"
    "_retirectl() {\n"
    "  local exe=${words[1]} cmd= npos=0 i w kind\n"
    "  local -a globals args names\n"
    "  for ((i = 2; i < CURRENT; i++)); do\n"
    "    w=${words[i]}\n"
    "    if [[ $w == -* ]]; then\n"
    "      kind=$(_retirectl_kind ${cmd:-_} $w)\n"
    "      if [[ -n $kind && $kind != flag ]]; then\n"
    "        [[ $kind == config ]] && globals+=(--config ${words[i + 1]})\n"
    "        [[ $w == --driver-path ]] && globals+=(--driver-path ${words[i + 1]})\n"
    "        i=$((i + 1))\n"
    "      fi\n"
    "    elif [[ -z $cmd ]]; then\n"
    "      cmd=$w\n"
    "    else\n"
    "      npos=$((npos + 1))\n"
    "    fi\n"
    "  done\n"
    "  if ((CURRENT > 2)) && [[ ${words[CURRENT - 1]} == -* ]]; then\n"
    "    kind=$(_retirectl_kind ${cmd:-_} ${words[CURRENT - 1]})\n"
    "    if [[ -n $kind && $kind != flag ]]; then _retirectl_offer $kind; return; fi\n"
    "  fi\n"
    "  if [[ ${words[CURRENT]} == -* ]]; then\n"
    "    local spec\n"
    "    for spec in ${=_retirectl_opts[${cmd:-_}]}; do names+=(${spec%%=*}); done\n"
    "    compadd -- $names\n"
    "  elif [[ -z $cmd ]]; then\n"
    "    _describe -t commands 'retirectl command' _retirectl_commands\n"
    "  else\n"
    "    args=(${=_retirectl_args[$cmd]})\n"
    "    ((npos < $#args)) && _retirectl_offer ${args[npos + 1]}\n"
    "  fi\n"
    "}\n"
    "\n"
    "if [[ ${funcstack[1]} == _retirectl ]]; then\n"
    "  _retirectl \"$@\"\n"
    "else\n"
    "  compdef _retirectl retirectl\n"
    "fi\n";

void completion_write_zsh(FILE *out, const completion_model *m)
{
    fputs("#compdef retirectl\n"
          "# zsh completion for retirectl. Generated by `retirectl completion zsh` from its command\n"
          "# table and each command's --help; regenerate instead of editing. Load it with\n"
          "#   source <(retirectl completion zsh)     (after compinit)\n"
          "# or install it as _retirectl in a folder of $fpath (Debian: /usr/share/zsh/vendor-completions).\n\n"
          "typeset -ga _retirectl_commands\n_retirectl_commands=(\n",
          out);
    for (size_t i = 0; i < m->n; i++) {
        char entry[512];
        snprintf(entry, sizeof entry, "%s:%s", m->names[i], m->summaries[i] ? m->summaries[i] : "");
        fputs("  ", out);
        put_quoted(out, entry);
        fputc('\n', out);
    }
    fputs(")\n", out);
    put_tables(out, m, 1);
    fputc('\n', out);
    fputs(zsh_body, out);
}
