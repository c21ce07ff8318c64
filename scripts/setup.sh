#!/usr/bin/env bash
# Set up syndication on a fresh Debian 12 machine with Python 3.11 (idempotent; re-run any time).
#   bash scripts/setup.sh          # what the demo and a single-machine install need
#   bash scripts/setup.sh --test   # plus what the test suite needs (servers, browser, test tools)
set -euo pipefail
cd "$(dirname "$0")/.."
test_deps=0
[ "${1:-}" = "--test" ] && test_deps=1

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

# Debian packages: Apertium engines (da→nb/nn/sv) always; test servers only with --test.
debs=(python3-venv apertium apertium-dan-nor apertium-swe-dan)
if [ "$test_deps" = 1 ]; then
  # wordpress-theme-twentytwentythree: a Recommends of wordpress, skipped by --no-install-recommends, yet
  # the e2e tests read the partner's front page, which a WordPress without a theme answers empty.
  # nginx-light only satisfies wordpress' httpd dependency (tests serve it with `php -S`).
  debs+=(chromium postgresql mariadb-server wordpress wordpress-theme-twentytwentythree php-cli php-mysql nginx-light curl bc)
fi
missing=()
for pkg in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -q >/dev/null
  # "libapache2-mod-php- apache2-bin-": WordPress is served by `php -S` in tests; never pull Apache.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" \
    libapache2-mod-php- apache2-bin- >/dev/null
fi

# The Python package in a virtualenv of its own.
[ -x .venv/bin/python ] || python3 -m venv .venv
extra=""
[ "$test_deps" = 1 ] && extra="[test]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra}"
echo "ready: .venv/bin/syndicate --help"
