# Sourced by pg-local.sh and citus-local.sh: where the local PostgreSQL binaries are, and how to
# run the ones that refuse root (initdb, postgres) as the postgres user.

# A binary on PATH, else the newest of the Debian-style /usr/lib/postgresql/<version>/bin ones.
find_bin() {
  command -v "$1" 2>/dev/null && return
  ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1
}

# initdb and postgres refuse to run as root: run them as the postgres user then.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
