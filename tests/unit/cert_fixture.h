/* SPDX-License-Identifier: MIT */
/*
 * A throw-away PKI for the certificate tests, made at test time with the
 * openssl command line in a mkdtemp directory: a root, an intermediate and
 * leaves with chosen keys, serials, validity and SANs. Expected values are
 * then computed with the command line too, independently of the code under
 * test. Shared by test_cert.c and test_staple.c.
 */
#ifndef TW_CERT_FIXTURE_H
#define TW_CERT_FIXTURE_H

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char pki_dir[] = "/tmp/tlswatch-pki-XXXXXX";

/* Runs @fmt in the PKI directory, output appended to pki.log. */
static inline int __attribute__((format(printf, 1, 2))) pki_sh(const char *fmt, ...)
{
	char cmd[4096], full[4608];
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -1;
	snprintf(full, sizeof(full), "cd '%s' && ( %s ) >>pki.log 2>&1",
		 pki_dir, cmd);
	rc = system(full);
	if (rc != 0)
		printf("# command failed (%d): %s\n", rc, cmd);
	return rc == 0 ? 0 : -1;
}

/* First line of @fmt's output (run in the PKI directory), without "\n". */
static inline int __attribute__((format(printf, 3, 4)))
pki_line(char *out, size_t len, const char *fmt, ...)
{
	char cmd[4096], full[4608];
	va_list ap;
	FILE *p;
	int ok;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "cd '%s' && ( %s ) 2>>pki.log", pki_dir, cmd);
	p = popen(full, "r");
	if (!p)
		return -1;
	ok = fgets(out, (int)len, p) != NULL;
	if (pclose(p) != 0 || !ok)
		return -1;
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

/* The SHA-256 printed by sha256sum at the start of @fmt's output. */
#define pki_sha256(out, ...) \
	(pki_line(out, 65, __VA_ARGS__) == 0 && strlen(out) == 64 ? 0 : -1)

static inline int pki_read(const char *name, uint8_t **buf, size_t *len)
{
	char path[512];
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", pki_dir, name);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -1;
	}
	*buf = malloc((size_t)n);
	if (!*buf || fread(*buf, 1, (size_t)n, f) != (size_t)n) {
		free(*buf);
		*buf = NULL;
		fclose(f);
		return -1;
	}
	fclose(f);
	*len = (size_t)n;
	return 0;
}

static inline int pki_write(const char *name, const char *text)
{
	char path[512];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", pki_dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static inline int pki_write_config(void)
{
	char cnf[8192], many[4096];
	size_t off = 0;
	int i;

	/* 70 DNS names: more than CERT_MAX_SAN (64). */
	for (i = 0; i < 70; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off,
					"%sDNS:h%d.example.test", i ? ", " : "", i);
	snprintf(cnf, sizeof(cnf),
		 "[ ca ]\n"
		 "default_ca = tw_ca\n"
		 "[ tw_ca ]\n"
		 "database = index.txt\n"
		 "new_certs_dir = newcerts\n"
		 "serial = serial\n"
		 "default_md = sha256\n"
		 "policy = tw_policy\n"
		 "unique_subject = no\n"
		 "email_in_dn = no\n"
		 "copy_extensions = none\n"
		 "[ tw_policy ]\n"
		 "commonName = supplied\n"
		 "organizationName = optional\n"
		 "[ ext_inter ]\n"
		 "basicConstraints = critical, CA:TRUE\n"
		 "keyUsage = critical, keyCertSign, cRLSign\n"
		 "subjectKeyIdentifier = hash\n"
		 "authorityKeyIdentifier = keyid\n"
		 "[ ext_rsa ]\n"
		 "basicConstraints = CA:FALSE\n"
		 "subjectAltName = DNS:www.example.test, DNS:*.api.example.test, "
		 "IP:192.0.2.10, IP:2001:db8:0:0:1:0:0:1, DNS:example.test\n"
		 "[ ext_ec ]\n"
		 "subjectAltName = DNS:ec.example.test\n"
		 "[ ext_plain ]\n"
		 "subjectAltName = DNS:leaf.example.test, DNS:192.0.2.55\n"
		 "[ ext_cnonly ]\n"
		 "basicConstraints = CA:FALSE\n"
		 "[ ext_self ]\n"
		 "keyUsage = digitalSignature, keyEncipherment\n"
		 "subjectAltName = DNS:self.example.test\n"
		 "[ ext_many ]\n"
		 "subjectAltName = %s\n"
		 /* dNSName "x\1y.test", an 8-byte iPAddress (a netmask form
		  * not valid in a SAN), a URI, dNSName "ok.test" */
		 "[ ext_odd ]\n"
		 "subjectAltName = DER:3027"
		 "82087801792e74657374"
		 "8708c0000201ffffff00"
		 "8608687474703a2f2f78"
		 "82076f6b2e74657374\n"
		 "[ ext_ocsp ]\n"
		 "extendedKeyUsage = OCSPSigning\n"
		 "[ ext_noeku ]\n"
		 "keyUsage = digitalSignature\n",
		 many);
	return pki_write("ca.cnf", cnf);
}

#define PKI_RSA2048 "-algorithm RSA -pkeyopt rsa_keygen_bits:2048"
#define PKI_RSA1024 "-algorithm RSA -pkeyopt rsa_keygen_bits:1024"
#define PKI_P256    "-algorithm EC -pkeyopt ec_paramgen_curve:P-256"
#define PKI_P384    "-algorithm EC -pkeyopt ec_paramgen_curve:P-384"
#define PKI_ED25519 "-algorithm ED25519"

/* NAME.key (unless @key names an existing one), NAME.csr. */
static inline int pki_csr(const char *name, const char *genkey, const char *key,
		   const char *subj)
{
	char keyfile[128];

	snprintf(keyfile, sizeof(keyfile), "%s", key ? key : "");
	if (!key) {
		snprintf(keyfile, sizeof(keyfile), "%s.key", name);
		if (pki_sh("openssl genpkey %s -out %s", genkey, keyfile))
			return -1;
	}
	return pki_sh("openssl req -new -key %s -subj '%s' -out %s.csr",
		      keyfile, subj, name);
}

/* NAME.pem and NAME.der, issued by the intermediate with `openssl ca`,
 * which (unlike `openssl x509 -req` in 3.0) takes exact start/end dates. */
static inline int pki_ca_sign(const char *name, const char *ext, const char *serial,
		       const char *start, const char *end, const char *extra)
{
	char text[64];

	snprintf(text, sizeof(text), "%s\n", serial);
	if (pki_write("serial", text))
		return -1;
	if (pki_sh("openssl ca -batch -config ca.cnf %s -in %s.csr -out %s.pem "
		   "-notext -preserveDN -extensions %s -startdate %s -enddate %s",
		   extra, name, name, ext, start, end))
		return -1;
	return pki_sh("openssl x509 -in %s.pem -outform DER -out %s.der", name, name);
}

static inline int pki_leaf(const char *name, const char *genkey, const char *key,
		    const char *subj, const char *ext, const char *serial,
		    const char *start, const char *end)
{
	if (pki_csr(name, genkey, key, subj))
		return -1;
	return pki_ca_sign(name, ext, serial, start, end,
			   "-cert inter.pem -keyfile inter.key");
}

/* NAME.pem/.der signed by the intermediate with `openssl x509 -req`, for
 * serials `openssl ca` cannot write (zero, negative). */
static inline int pki_x509_sign(const char *name, const char *ext, const char *serial)
{
	if (pki_sh("openssl x509 -req -in %s.csr -CA inter.pem -CAkey inter.key "
		   "-set_serial %s -days 30 -extfile ca.cnf -extensions %s -out %s.pem",
		   name, serial, ext, name))
		return -1;
	return pki_sh("openssl x509 -in %s.pem -outform DER -out %s.der", name, name);
}

#define PKI_2025 "20250101000000Z"
#define PKI_2027 "20270101000000Z"

static inline int pki_create(void)
{
	if (!mkdtemp(pki_dir))
		return -1;
	if (pki_write_config() || pki_write("index.txt", "") ||
	    pki_sh("mkdir newcerts"))
		return -1;
	if (pki_sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key "
		   "-out root.pem -days 3650 -subj '/O=Tlswatch Test/CN=Tlswatch Test Root' "
		   "-addext basicConstraints=critical,CA:TRUE "
		   "-addext keyUsage=critical,keyCertSign,cRLSign") ||
	    pki_sh("openssl x509 -in root.pem -outform DER -out root.der") ||
	    pki_csr("inter", PKI_RSA2048, NULL,
		    "/O=Tlswatch Test/CN=Tlswatch Test Intermediate") ||
	    pki_sh("openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key "
		   "-set_serial 2 -days 3650 -extfile ca.cnf -extensions ext_inter "
		   "-out inter.pem") ||
	    pki_sh("openssl x509 -in inter.pem -outform DER -out inter.der") ||
	    pki_sh("openssl genpkey " PKI_RSA2048 " -out shared.key"))
		return -1;
	if (pki_leaf("rsa", PKI_RSA2048, NULL, "/O=Tlswatch Test/CN=www.example.test",
		     "ext_rsa", "0FEDCBA987654321", PKI_2025, PKI_2027) ||
	    pki_leaf("ec", PKI_P256, NULL, "/CN=ec.example.test", "ext_ec",
		     "A1B2C3", PKI_2025, "20600101000000Z") ||
	    pki_leaf("ec384", PKI_P384, NULL, "/CN=ec384.example.test",
		     "ext_plain", "1003", PKI_2025, PKI_2027) ||
	    pki_leaf("ed", PKI_ED25519, NULL, "/CN=ed.example.test", "ext_plain",
		     "1004", PKI_2025, PKI_2027) ||
	    pki_leaf("expired", NULL, "shared.key", "/CN=expired.example.test",
		     "ext_plain", "1005", "20240101000000Z", "20250601000000Z") ||
	    pki_leaf("notyet", NULL, "shared.key", "/CN=notyet.example.test",
		     "ext_plain", "1006", "20300101000000Z", "20310101000000Z") ||
	    pki_leaf("weak", PKI_RSA1024, NULL, "/CN=weak.example.test",
		     "ext_plain", "1007", PKI_2025, PKI_2027) ||
	    pki_leaf("cnonly", NULL, "shared.key", "/CN=legacy.example.test",
		     "ext_cnonly", "1008", PKI_2025, PKI_2027) ||
	    pki_leaf("many", NULL, "shared.key", "/CN=many.example.test",
		     "ext_many", "1009", PKI_2025, PKI_2027) ||
	    pki_leaf("odd", NULL, "shared.key", "/CN=odd.example.test",
		     "ext_odd", "100A", PKI_2025, PKI_2027))
		return -1;
	/* Self-signed with the UTCTime of 1960 and the GeneralizedTime of 2050. */
	if (pki_csr("self", PKI_RSA2048, NULL, "/CN=self.example.test") ||
	    pki_ca_sign("self", "ext_self", "01", "19600101000000Z",
			"20500101000000Z", "-selfsign -keyfile self.key"))
		return -1;
	if (pki_csr("zero", NULL, "shared.key", "/CN=zero.example.test") ||
	    pki_x509_sign("zero", "ext_plain", "0") ||
	    pki_csr("neg", NULL, "shared.key", "/CN=neg.example.test") ||
	    pki_x509_sign("neg", "ext_plain", "-0x1234"))
		return -1;
	return 0;
}

static inline void pki_dump_log(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "tail -20 '%s/pki.log' | sed 's/^/# /'", pki_dir);
	if (system(cmd) != 0)
		printf("# (no log)\n");
}

static inline void pki_destroy(void)
{
	char cmd[600];

	if (strstr(pki_dir, "XXXXXX"))
		return;          /* never created */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki_dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", pki_dir);
}

/* "serial=0FEDCBA987654321" from the command line -> "fedcba987654321". */
static inline void pki_serial_normalise(const char *cli, char *out, size_t len)
{
	const char *p = strchr(cli, '=');
	size_t o = 0;

	p = p ? p + 1 : cli;
	if (*p == '-' && o + 1 < len)
		out[o++] = *p++;
	while (*p == '0' && p[1])
		p++;
	for (; *p && o + 1 < len; p++)
		out[o++] = (char)tolower((unsigned char)*p);
	out[o] = '\0';
}

#endif
