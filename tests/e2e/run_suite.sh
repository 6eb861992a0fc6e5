#!/bin/sh
# Runs one end-to-end suite inside a new network namespace where only
# loopback is up.  usage: run_suite.sh PYTHON SUITE.py
set -eu
python=$1
suite=$2
cd "$(dirname "$suite")"
exec unshare -n sh -c 'ip link set lo up && exec "$0" -m unittest -v "$1"' \
  "$python" "$(basename "$suite" .py)"
