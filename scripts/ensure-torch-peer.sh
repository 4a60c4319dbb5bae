#!/usr/bin/env bash
# The PyTorch peer of `npm run bench` (RECIPES section 3): Debian's python3-torch with the
# multi-threaded OpenBLAS (without libopenblas0-pthread torch silently uses the reference
# BLAS, ~50x slower). Installs them when missing and this shell may use apt; otherwise says
# how, and the benchmark reports the PyTorch columns as unavailable instead of failing.
set -u
if /usr/bin/python3 -c 'import torch' 2>/dev/null && [ -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "[bench] installing the PyTorch peer: apt-get install -y python3-torch libopenblas0-pthread" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch libopenblas0-pthread >/dev/null \
    || echo "[bench] could not install python3-torch; the PyTorch columns will be empty" >&2
else
  echo "[bench] PyTorch peer missing: run 'sudo apt-get install -y python3-torch libopenblas0-pthread' for the wasm/PyTorch ratios" >&2
fi
exit 0
