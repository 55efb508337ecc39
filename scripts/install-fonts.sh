#!/usr/bin/env bash
# Fonts for every script an invoice may carry: DejaVu (Latin, Greek, Cyrillic, Arabic,
# Hebrew), WenQuanYi Zen Hei (Chinese, Japanese, Korean), Noto (many more scripts) and Noto
# Color Emoji, from Debian's packages. With root (or sudo without a password) they are
# installed system-wide; otherwise they are downloaded (apt-get download needs no root)
# and unpacked into ~/.local/share/fonts, where fontconfig, and so WeasyPrint, finds them.
# Where neither can be done, it says which packages to install and carries on:
# `invoicing templates check` then names any text that would print as empty boxes.
set -uo pipefail

packages=(fonts-dejavu-core fonts-wqy-zenhei fonts-noto-core fonts-noto-color-emoji)

covers() { [ -n "$(fc-list ":charset=$1" family 2>/dev/null | head -n1)" ]; }
if command -v fc-list >/dev/null && covers 4e00 && covers 1f389 && covers 5d0 && covers 627; then
  exit 0  # CJK, emoji, Hebrew and Arabic are drawn already
fi

if ! command -v apt-get >/dev/null; then
  echo "fonts: not a Debian-like system; install fonts covering CJK and emoji (e.g. Noto CJK, Noto Color Emoji)" >&2
  exit 0
fi

if [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  echo "fonts: installing ${packages[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null 2>&1 \
    || { $SUDO apt-get update -qq >/dev/null 2>&1 && \
         $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null 2>&1; } \
    || echo "fonts: apt-get install failed; install ${packages[*]} by hand" >&2
  exit 0
fi

target="${XDG_DATA_HOME:-$HOME/.local/share}/fonts/invoicing"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "fonts: no root: unpacking ${packages[*]} into $target"
if (cd "$work" && apt-get download "${packages[@]}" >/dev/null 2>&1); then
  mkdir -p "$target"
  for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
  find "$work/root/usr/share/fonts" -type f \( -name '*.tt[fc]' -o -name '*.otf' \) \
    -exec cp -f {} "$target/" \;
  fc-cache -f "$target" >/dev/null 2>&1 || true
else
  echo "fonts: could not download ${packages[*]}; install them by hand" >&2
fi
exit 0
