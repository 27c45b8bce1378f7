#!/bin/sh
# dockerd-entrypoint.sh as the runtime tier emulates it (tests/runtime/README.md).
#
# The tier writes this file to /usr/local/bin/dockerd-entrypoint.sh in every container
# whose image is a docker:*-dind image, where the real image has its entrypoint. It
# follows the argument rules of docker-library/docker's dockerd-entrypoint.sh (29.x):
#
#   - no arguments, or a first argument that starts with "-": put `dockerd` and the
#     default listeners in front of them: the unix socket (DOCKER_HOST when it is
#     unix://..., else unix:///var/run/docker.sock as root), and, when
#     DOCKER_TLS_CERTDIR is set, tcp://0.0.0.0:2376 with --tlsverify and certificates
#     generated in it as the image generates them; else plain tcp://0.0.0.0:2375;
#   - a first argument `dockerd`: run it as given;
#   - anything else: run it (the image would pass it through docker-entrypoint.sh).
#
# What the real image does that this root cannot (the hack/dind wrapper, choosing an
# iptables backend, rootless dockerd) is left out. What this machine needs, and only
# that, is done at the end and printed to stderr: flags Docker 26 lacks whose effect is
# Docker 26's default anyway are dropped (the list is kept in tests/runtime/emulator.py
# and tested), and --iptables=false is added (the root has no iptables).
#
# INJECT_DOCKER_RUNTIME_DRY_RUN=1 prints the final command, one argument a line,
# instead of running it.
set -eu

_tls_ensure_private() {
	local f="$1"; shift
	[ -s "$f" ] || openssl genrsa -out "$f" 4096
}
_tls_san() {
	{
		ip -oneline address | awk '{ gsub(/\/.+$/, "", $4); print "IP:" $4 }'
		{
			cat /etc/hostname
			echo 'docker'
			echo 'localhost'
			hostname -f
			hostname -s
		} | sed 's/^/DNS:/'
		[ -z "${DOCKER_TLS_SAN:-}" ] || echo "$DOCKER_TLS_SAN"
	} | sort -u | xargs printf '%s,' | sed "s/,\$//"
}
_tls_generate_certs() {
	local dir="$1"; shift

	# if ca/key.pem || !ca/cert.pem, generate CA public if necessary
	# if ca/key.pem, generate server public
	# if ca/key.pem, generate client public
	# (regenerating public certs every startup to account for SAN/IP changes and/or expiration)
	local certValidDays='825'

	if [ -s "$dir/ca/key.pem" ] || [ ! -s "$dir/ca/cert.pem" ]; then
		mkdir -p "$dir/ca"
		_tls_ensure_private "$dir/ca/key.pem"
		openssl req -new -key "$dir/ca/key.pem" \
			-out "$dir/ca/cert.pem" \
			-subj '/CN=docker:dind CA' -x509 -days "$certValidDays" \
			-addext keyUsage=critical,digitalSignature,keyCertSign
	fi

	if [ -s "$dir/ca/key.pem" ]; then
		mkdir -p "$dir/server"
		_tls_ensure_private "$dir/server/key.pem"
		openssl req -new -key "$dir/server/key.pem" \
			-out "$dir/server/csr.pem" \
			-subj '/CN=docker:dind server'
		cat > "$dir/server/openssl.cnf" <<-EOF
			[ x509_exts ]
			subjectAltName = $(_tls_san)
			extendedKeyUsage = serverAuth
		EOF
		openssl x509 -req \
			-in "$dir/server/csr.pem" \
			-CA "$dir/ca/cert.pem" \
			-CAkey "$dir/ca/key.pem" \
			-CAcreateserial \
			-out "$dir/server/cert.pem" \
			-days "$certValidDays" \
			-extfile "$dir/server/openssl.cnf" \
			-extensions x509_exts
		cp "$dir/ca/cert.pem" "$dir/server/ca.pem"
		openssl verify -CAfile "$dir/server/ca.pem" "$dir/server/cert.pem"
	fi

	if [ -s "$dir/ca/key.pem" ]; then
		mkdir -p "$dir/client"
		_tls_ensure_private "$dir/client/key.pem"
		chmod 0644 "$dir/client/key.pem"
		openssl req -new \
			-key "$dir/client/key.pem" \
			-out "$dir/client/csr.pem" \
			-subj '/CN=docker:dind client'
		cat > "$dir/client/openssl.cnf" <<-'EOF'
			[ x509_exts ]
			extendedKeyUsage = clientAuth
		EOF
		openssl x509 -req \
			-in "$dir/client/csr.pem" \
			-CA "$dir/ca/cert.pem" \
			-CAkey "$dir/ca/key.pem" \
			-CAcreateserial \
			-out "$dir/client/cert.pem" \
			-days "$certValidDays" \
			-extfile "$dir/client/openssl.cnf" \
			-extensions x509_exts
		cp "$dir/ca/cert.pem" "$dir/client/ca.pem"
		openssl verify -CAfile "$dir/client/ca.pem" "$dir/client/cert.pem"
	fi
}

# no arguments, or the first argument is a flag (`-f`, `--some-option`)
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
	uid="$(id -u)"
	if [ "$uid" = '0' ]; then
		dockerSocket='unix:///var/run/docker.sock'
	else
		: "${XDG_RUNTIME_DIR:=/run/user/$uid}"
		dockerSocket="unix://$XDG_RUNTIME_DIR/docker.sock"
	fi
	case "${DOCKER_HOST:-}" in
		unix://*)
			dockerSocket="$DOCKER_HOST"
			;;
	esac

	if [ -n "${DOCKER_TLS_CERTDIR:-}" ]; then
		# since 2023 a failure to make certificates stops here (set -e), never falls back to 2375
		_tls_generate_certs "$DOCKER_TLS_CERTDIR"
		set -- dockerd \
			--host="$dockerSocket" \
			--host=tcp://0.0.0.0:2376 \
			--tlsverify \
			--tlscacert "$DOCKER_TLS_CERTDIR/server/ca.pem" \
			--tlscert "$DOCKER_TLS_CERTDIR/server/cert.pem" \
			--tlskey "$DOCKER_TLS_CERTDIR/server/key.pem" \
			"$@"
	else
		set -- dockerd \
			--host="$dockerSocket" \
			--host=tcp://0.0.0.0:2375 \
			"$@"
	fi
fi

if [ "$1" = 'dockerd' ]; then
	[ -n "${INJECT_DOCKER_RUNTIME_DRY_RUN:-}" ] || find /run /var/run -iname 'docker*.pid' -delete 2>/dev/null || :

	uid="$(id -u)"
	if [ "$uid" != '0' ]; then
		echo >&2 "runtime tier: dockerd as uid $uid would run rootless (rootlesskit, /etc/subuid), which the tier does not emulate"
		exit 1
	fi

	# What this machine needs: drop the flags Docker 26 lacks, add --iptables=false.
	shift
	dropped=''
	pending=''
	n=0
	for arg in "$@"; do
		[ "$n" -gt 0 ] || set --
		n=$((n + 1))
		if [ -n "$pending" ]; then
			case "$pending $arg" in
				@PAIR_CASES@) dropped="$dropped $pending $arg" ;;
				*) set -- "$@" "$pending" "$arg" ;;
			esac
			pending=''
			continue
		fi
		case "$arg" in
			@JOINED_CASES@)
				dropped="$dropped $arg"
				continue
				;;
			@NAME_CASES@)
				pending="$arg"
				continue
				;;
		esac
		set -- "$@" "$arg"
	done
	[ -z "$pending" ] || set -- "$@" "$pending"
	set -- dockerd "$@" --iptables=false
	[ -z "$dropped" ] || echo >&2 "runtime tier: dropped flags that Docker 26 lacks:$dropped"
	echo >&2 "runtime tier: added --iptables=false (the root has no iptables)"
	echo >&2 "runtime tier: running: $*"
	# as the image: docker-init (tini) as pid 1, against zombie shims
	if command -v docker-init > /dev/null; then
		set -- docker-init -- "$@"
	fi
fi

if [ -n "${INJECT_DOCKER_RUNTIME_DRY_RUN:-}" ]; then
	printf '%s\n' "$@"
	exit 0
fi
exec "$@"
