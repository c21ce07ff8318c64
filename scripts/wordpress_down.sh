#!/usr/bin/env bash
# Stop what scripts/wordpress_up.sh started for the same WP_PORT / WP_STATE (by PID, never by name).
#   WP_PORT=8089 bash scripts/wordpress_down.sh          # stop the servers, keep the install
#   WP_PURGE=1 bash scripts/wordpress_down.sh            # ... and delete $WP_STATE and the site config
# Each server was started with setsid, so its PID is its process group: `kill -- -PID` also stops
# the `php -S` workers, which a plain `kill PID` would leave listening.
set -uo pipefail
WP_PORT=${WP_PORT:-8089}
WP_STATE=${WP_STATE:-/tmp/syndication-wp-$WP_PORT}
for name in php-server mariadbd; do
  pidfile="$WP_STATE/$name.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null
  fi
  rm -f "$pidfile"
done
if [ "${WP_PURGE:-0}" = 1 ]; then
  rm -rf "$WP_STATE"
  rm -f "/etc/wordpress/config-syndication-$WP_PORT.php"
fi
echo "wordpress down: $WP_STATE"
