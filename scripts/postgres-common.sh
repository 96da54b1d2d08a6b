# Sourced by scripts/with-postgres.sh and Benchmarks/with-postgis.sh (each defines `say` first):
# PostgreSQL 15 + PostGIS 3 installed with apt when missing, and a throwaway cluster folder that
# the server may use (PostgreSQL refuses to run as root: as root, the folder belongs to a
# `postgres` system user and `as_pg` runs commands as that user).
#
#   pg_ensure_installed            sets pgbin; exits 4 (with the reason) when it cannot install
#   pg_make_dir PREFIX             sets dir to a new folder /tmp/PREFIX.XXXXXX and defines as_pg

major=15
pgbin=/usr/lib/postgresql/$major/bin

pg_ensure_installed() {
  local extension=/usr/share/postgresql/$major/extension/postgis.control sudo packages
  packages=("postgresql-$major" "postgresql-$major-postgis-3")
  if [ ! -f "$extension" ] || [ ! -x "$pgbin/postgres" ]; then
    say "postgresql-$major-postgis-3 is not installed; installing it with apt"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo="none"; fi
    [ "$sudo" != none ] || { say "cannot install: not root and no password-less sudo"; exit 4; }
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${packages[@]}" >&2 \
      || { $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${packages[@]}" >&2; } \
      || { say "apt-get install postgresql-$major-postgis-3 failed"; exit 4; }
    [ -f "$extension" ] || { say "installed, but $extension is missing"; exit 4; }
  fi
  [ -x "$pgbin/postgres" ] || { say "$pgbin/postgres not found (postgresql-$major)"; exit 4; }
}

pg_make_dir() {
  dir=$(mktemp -d "/tmp/$1.XXXXXX")
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    chown postgres: "$dir"
    as_pg() { runuser -u postgres -- "$@"; }
  else
    as_pg() { "$@"; }
  fi
}
