#!/usr/bin/env bash
# A real WordPress partner site on 127.0.0.1 for the tests, CI and the benchmark.
#
#   WP_PORT=8089 bash scripts/wordpress_up.sh      # start (or reuse) and print the env file's path
#   WP_FRESH=1 bash scripts/wordpress_up.sh        # drop the site's database and install again
#   bash scripts/wordpress_down.sh                 # stop what this script started
#
# Debian's `wordpress` package served by `php -S`, with a private MariaDB instance (own data
# folder and socket under $WP_STATE, so nothing is shared with a system database), installed
# non-interactively through the installer's own form, the `contrib/wordpress/syndication.php`
# must-use plugin, pretty permalinks and an Application Password for $WP_USER.
#
# Idempotent: packages are installed only when missing, running servers are reused, an existing
# install and a still-valid Application Password are kept. Writes $WP_STATE/env (shell-sourceable):
# WP_URL, WP_USER, WP_APP_PASSWORD, WP_STATE. Servers run under setsid; their PIDs (= process
# groups) go to $WP_STATE/*.pid for wordpress_down.sh.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
WP_PORT=${WP_PORT:-8089}
WP_STATE=${WP_STATE:-/tmp/syndication-wp-$WP_PORT}
WP_USER=${WP_USER:-partner}
WP_FRESH=${WP_FRESH:-0}
WP_URL="http://127.0.0.1:$WP_PORT"
SITE="syndication-$WP_PORT"                 # Debian's wp-config.php picks /etc/wordpress/config-$SITE.php
DB_SOCK="$WP_STATE/mysqld.sock"
DB_NAME="wp_${WP_PORT}"
CONTENT="$WP_STATE/wp-content"
mkdir -p "$WP_STATE"
now() { date +%s.%N; }
elapsed() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }
t_start=$(now)

# --- packages (Debian only installs them; it never starts their services here) --------------
needed=(mariadb-server wordpress php-cli php-mysql nginx-light curl bc)
missing=()
for pkg in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  # `apache2-bin-`: `php -S` serves the site; keep apt from pulling Apache for wordpress' httpd dependency.
  if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
      "${missing[@]}" libapache2-mod-php- apache2-bin- >"$WP_STATE/apt.log" 2>&1; then
    $SUDO apt-get update -q >>"$WP_STATE/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
      "${missing[@]}" libapache2-mod-php- apache2-bin- >>"$WP_STATE/apt.log" 2>&1 \
      || { echo "apt-get install failed:" >&2; tail -20 "$WP_STATE/apt.log" >&2; exit 1; }
  fi
fi
t_packages=$(elapsed "$t_start")

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# --- a private MariaDB --------------------------------------------------------------------------
db_ping() { mariadb-admin --no-defaults --socket="$DB_SOCK" -uroot ping >/dev/null 2>&1; }
if ! db_ping; then
  if [ ! -d "$WP_STATE/mysql/mysql" ]; then
    rm -rf "$WP_STATE/mysql"
    install -d -o mysql -g mysql "$WP_STATE/mysql"
    mariadb-install-db --no-defaults --user=mysql --datadir="$WP_STATE/mysql" \
      --auth-root-authentication-method=socket --skip-test-db >"$WP_STATE/mariadb-install.log" 2>&1 \
      || { echo "mariadb-install-db failed:" >&2; tail -20 "$WP_STATE/mariadb-install.log" >&2; exit 1; }
  fi
  chown mysql:mysql "$WP_STATE" "$WP_STATE/mysql"
  setsid /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$WP_STATE/mysql" \
    --socket="$DB_SOCK" --skip-networking --pid-file="$WP_STATE/mysql.pid" \
    --innodb-buffer-pool-size=32M --innodb-log-file-size=16M --performance-schema=OFF \
    >"$WP_STATE/mariadbd.log" 2>&1 </dev/null &
  echo $! >"$WP_STATE/mariadbd.pid"
  for _ in $(seq 1 150); do db_ping && break; sleep 0.1; done
  db_ping || { echo "MariaDB did not start:" >&2; tail -20 "$WP_STATE/mariadbd.log" >&2; exit 1; }
fi
sql() { mariadb --no-defaults --socket="$DB_SOCK" -uroot "$@"; }
if [ "$WP_FRESH" = 1 ]; then
  sql -e "DROP DATABASE IF EXISTS \`$DB_NAME\`"
  rm -f "$WP_STATE/env"
  rm -rf "$CONTENT/uploads"
fi
sql -e "CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
t_db=$(elapsed "$t_start")

# --- the site's config and content folder -------------------------------------------------------
mkdir -p "$CONTENT/mu-plugins" "$CONTENT/uploads" "$CONTENT/plugins"
ln -sfn /usr/share/wordpress/wp-content/themes "$CONTENT/themes"
cp "$here/contrib/wordpress/syndication.php" "$CONTENT/mu-plugins/syndication.php"
keys=""
for k in AUTH_KEY SECURE_AUTH_KEY LOGGED_IN_KEY NONCE_KEY AUTH_SALT SECURE_AUTH_SALT LOGGED_IN_SALT NONCE_SALT; do
  keys+="define('$k', '$(head -c 32 /dev/urandom | base64 | tr -d '\n/+=')');"$'\n'
done
[ -f "$WP_STATE/keys.php" ] || printf '<?php\n%s' "$keys" >"$WP_STATE/keys.php"
cat >"/etc/wordpress/config-$SITE.php" <<PHP
<?php
// Written by syndication's scripts/wordpress_up.sh for a test partner site on port $WP_PORT.
define('DB_NAME', '$DB_NAME');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', 'localhost:$DB_SOCK');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
require '$WP_STATE/keys.php';
\$table_prefix = 'wp_';
define('WP_ENVIRONMENT_TYPE', 'local');   // Application Passwords over plain HTTP on loopback
define('WP_CONTENT_DIR', '$CONTENT');
define('WP_CONTENT_URL', '$WP_URL/wp-content');
define('WP_HOME', '$WP_URL');
define('WP_SITEURL', '$WP_URL');
define('DISABLE_WP_CRON', true);          // no HTTP calls back into the single-threaded server
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);   // never reach out to wordpress.org
define('WP_DEBUG', false);
PHP
# MariaDB runs as root's socket-authenticated user: php -S runs as root, so that is who connects.

# Router for `php -S`: picks this site's config, serves wp-content from $CONTENT and real files
# from the docroot, and sends everything else (pretty permalinks, /wp-json/) to index.php.
cat >"$WP_STATE/router.php" <<PHP
<?php
\$_SERVER['WORDPRESS_CONFIG'] = '$SITE';
\$path = urldecode(parse_url(\$_SERVER['REQUEST_URI'], PHP_URL_PATH) ?? '/');
if (strpos(\$path, '/wp-content/') === 0 && strpos(\$path, '..') === false) {
    \$file = '$CONTENT' . substr(\$path, strlen('/wp-content'));
    if (is_file(\$file) && substr(\$file, -4) !== '.php') {
        \$type = function_exists('mime_content_type') ? mime_content_type(\$file) : 'application/octet-stream';
        header('Content-Type: ' . \$type);
        header('Content-Length: ' . filesize(\$file));
        readfile(\$file);
        return true;
    }
    if (is_file(\$file)) { return false; }
}
\$file = \$_SERVER['DOCUMENT_ROOT'] . \$path;
if (\$path !== '/' && is_file(\$file)) { return false; }
if (is_dir(\$file) && is_file(rtrim(\$file, '/') . '/index.php')) { return false; }
\$_SERVER['SCRIPT_NAME'] = '/index.php';
\$_SERVER['PHP_SELF'] = '/index.php';
\$_SERVER['SCRIPT_FILENAME'] = \$_SERVER['DOCUMENT_ROOT'] . '/index.php';
unset(\$_SERVER['PATH_INFO']);
require \$_SERVER['SCRIPT_FILENAME'];
PHP

# --- the web server -----------------------------------------------------------------------------
if ! alive "$WP_STATE/php-server.pid"; then
  if curl -s -o /dev/null --max-time 2 "$WP_URL/"; then
    echo "port $WP_PORT is taken by another program; pick another WP_PORT" >&2; exit 1
  fi
  # Two workers: a request may arrive while another one is still being answered.
  PHP_CLI_SERVER_WORKERS=2 setsid php -S "127.0.0.1:$WP_PORT" -t /usr/share/wordpress \
    -d upload_max_filesize=16M -d post_max_size=16M -d memory_limit=256M \
    "$WP_STATE/router.php" >"$WP_STATE/php-server.log" 2>&1 </dev/null &
  echo $! >"$WP_STATE/php-server.pid"
  for _ in $(seq 1 100); do curl -s -o /dev/null --max-time 2 "$WP_URL/wp-admin/install.php" && break; sleep 0.1; done
fi
curl -s -o /dev/null --max-time 5 "$WP_URL/wp-admin/install.php" \
  || { echo "php -S did not come up on $WP_URL:" >&2; tail -20 "$WP_STATE/php-server.log" >&2; exit 1; }
t_http=$(elapsed "$t_start")

# --- install (the installer's own form, step 2) -------------------------------------------------
if ! sql -N -e "SELECT 1 FROM \`$DB_NAME\`.wp_options WHERE option_name='siteurl'" 2>/dev/null | grep -q 1; then
  login_password=$(head -c 18 /dev/urandom | base64 | tr -d '\n/+=')
  curl -s -o "$WP_STATE/install.html" --max-time 120 "$WP_URL/wp-admin/install.php?step=2" \
    --data-urlencode "weblog_title=Partner (test)" \
    --data-urlencode "user_name=$WP_USER" \
    --data-urlencode "admin_password=$login_password" \
    --data-urlencode "admin_password2=$login_password" \
    --data-urlencode "pw_weak=1" \
    --data-urlencode "admin_email=$WP_USER@example.test" \
    --data-urlencode "blog_public=1" \
    --data-urlencode "language="
  if ! grep -q 'wp-login.php' "$WP_STATE/install.html"; then
    echo "the WordPress installer did not succeed:" >&2
    sed 's/<[^>]*>//g' "$WP_STATE/install.html" | grep -v '^\s*$' | head -20 >&2
    exit 1
  fi
  rm -f "$WP_STATE/env"
fi

# --- permalinks and an Application Password (no REST endpoint can mint the first one) ----------
valid_env() {
  [ -f "$WP_STATE/env" ] || return 1
  # shellcheck disable=SC1091
  ( . "$WP_STATE/env"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -u "$WP_USER:$WP_APP_PASSWORD" \
      "$WP_URL/wp-json/wp/v2/users/me")
    [ "$code" = 200 ] )
}
if ! valid_env; then
  app_password=$(WORDPRESS_CONFIG="$SITE" WP_USER="$WP_USER" php -d display_errors=stderr -r '
    $_SERVER["WORDPRESS_CONFIG"] = getenv("WORDPRESS_CONFIG");
    $_SERVER["HTTP_HOST"] = "127.0.0.1"; $_SERVER["REQUEST_METHOD"] = "GET";
    define("WP_USE_THEMES", false);
    require "/usr/share/wordpress/wp-load.php";
    update_option("permalink_structure", "/%postname%/");
    // Rules are rebuilt on the next request; flushing in this process would store incomplete ones.
    delete_option("rewrite_rules");
    $user = get_user_by("login", getenv("WP_USER"));
    if (!$user) { fwrite(STDERR, "no user " . getenv("WP_USER") . "\n"); exit(1); }
    [$password, $item] = WP_Application_Passwords::create_new_application_password(
        $user->ID, ["name" => "syndication-tests-" . time()]);
    echo $password;')
  umask 077
  cat >"$WP_STATE/env" <<ENV
WP_URL=$WP_URL
WP_USER=$WP_USER
WP_APP_PASSWORD='$app_password'
WP_STATE=$WP_STATE
ENV
  valid_env || { echo "the new Application Password is not accepted by $WP_URL/wp-json/wp/v2/users/me" >&2; exit 1; }
fi
echo "wordpress up: $WP_URL (packages ${t_packages}s, db ${t_db}s, http ${t_http}s, total $(elapsed "$t_start")s)"
echo "env: $WP_STATE/env"
