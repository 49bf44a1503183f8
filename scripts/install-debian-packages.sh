#!/bin/sh
# Installs the Debian packages the marketplace and its test suite use.
# Safe to run again: apt-get skips what is already installed.
#   chromium            the browser the journey tests and screenshots drive
#   fonts-dejavu-core   a Unicode font for invoice PDFs and screenshots
#   poppler-utils       pdftoppm, pdftotext, to look at generated invoices
#   qpdf                qpdf --check, to check the structure of invoice and credit note PDFs
#   nginx, supervisor   the deploy/ configurations are checked by the real programs
#   systemd             systemd-analyze, which checks the deploy/systemd units offline
#   strace              traces the units' programs to check them against the units' sandbox
#   redis-server        the Redis queue backend, and throwaway servers in fault tests
#   postgresql          the production database backend (its client has pg_dump for backups)
set -eu
PACKAGES="chromium fonts-dejavu-core poppler-utils qpdf nginx supervisor systemd strace redis-server postgresql"
missing=""
for pkg in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing="$missing $pkg"
done
if [ -z "$missing" ]; then
    echo "Debian packages: all present."
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "Installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# nginx and supervisor must not be started by the install: the tests run their own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends $missing
