# Bash completion for dpmlp: subcommands, then each subcommand's long options. The options are
# read from `dpmlp <command> --help` of the binary being completed (so they never drift from the
# program), once per command and shell. Installed to share/bash-completion/completions/dpmlp.
_dpmlp_options() {
  local prog=$1 cmd=$2 var
  var=_dpmlp_opts_${cmd//[^a-z]/_}
  if [[ -z ${!var-} ]]; then
    printf -v "$var" '%s' "$("$prog" "$cmd" --help 2>/dev/null |
      grep -oE -- '--[a-z][a-z0-9-]*' | sort -u | tr '\n' ' ')"
  fi
  printf '%s' "${!var}"
}

_dpmlp() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} prog=${COMP_WORDS[0]}
  local commands="train eval predict info export inspect plot"
  COMPREPLY=()
  if ((COMP_CWORD == 1)); then
    mapfile -t COMPREPLY < <(compgen -W "$commands --help --version" -- "$cur")
    return
  fi
  local cmd=${COMP_WORDS[1]}
  [[ " $commands " == *" $cmd "* ]] || return
  case $prev in
    --config | --model | --checkpoint | --data-dir | --train-csv | --test-csv | --input | --out | \
      --save-model | --metrics | --checkpoint-dir | --init-from | --train-npy | --train-labels | \
      --test-npy | --test-labels | --summary-json)
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      compopt -o filenames 2>/dev/null
      return
      ;;
  esac
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_dpmlp_options "$prog" "$cmd")" -- "$cur")
  else
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    compopt -o filenames 2>/dev/null
  fi
}
complete -F _dpmlp dpmlp
