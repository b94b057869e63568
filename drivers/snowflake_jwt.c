/*
 * snowflake_jwt.c — key-pair JWTs for the Snowflake SQL API (see
 * snowflake_jwt.h).  Plain C: malloc/free, no PostgreSQL header, never throws.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "snowflake_jwt.h"

struct SfKey
{
	EVP_PKEY   *pkey;
	char		fingerprint[80];	/* "SHA256:" + 44 base64 characters */
};

/* What the passphrase callback saw: OpenSSL asks only for encrypted keys. */
typedef struct PassState
{
	const char *pass;			/* NULL: none given */
	size_t		len;
	int			asked;
} PassState;

/* Hands OpenSSL the passphrase; without one it fails instead of prompting on a terminal. */
static int
pass_cb(char *buf, int size, int rwflag, void *u)
{
	PassState  *ps = (PassState *) u;

	(void) rwflag;
	ps->asked = 1;
	if (ps->pass == NULL || ps->len == 0 || ps->len >= (size_t) size)
		return -1;
	memcpy(buf, ps->pass, ps->len);
	return (int) ps->len;
}

/* Finds "passphrase:" at the start of a line of the secret; its value without surrounding blanks. */
static const char *
find_passphrase(const char *s, size_t len, size_t *plen)
{
	static const char tag[] = "passphrase:";
	size_t		i = 0;

	while (i < len)
	{
		size_t		eol = i;

		while (eol < len && s[eol] != '\n')
			eol++;
		if (eol - i >= sizeof(tag) - 1 && strncasecmp(s + i, tag, sizeof(tag) - 1) == 0)
		{
			size_t		b = i + sizeof(tag) - 1;
			size_t		e = eol;

			while (b < e && (s[b] == ' ' || s[b] == '\t'))
				b++;
			while (e > b && isspace((unsigned char) s[e - 1]))
				e--;
			*plen = e - b;
			return s + b;
		}
		i = eol + 1;
	}
	*plen = 0;
	return NULL;
}

/* Standard base64 with padding into out (room for 4 * ceil(n / 3) + 1 bytes). */
static void
b64(const unsigned char *in, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *) out, in, (int) n);
}

/* base64url without padding, malloc'd (JWT segments). */
static char *
b64url(const unsigned char *in, size_t n)
{
	char	   *out = malloc(4 * ((n + 2) / 3) + 1);
	char	   *w;

	if (out == NULL)
		return NULL;
	b64(in, n, out);
	for (w = out; *w; w++)
	{
		if (*w == '+')
			*w = '-';
		else if (*w == '/')
			*w = '_';
		else if (*w == '=')
		{
			*w = '\0';
			break;
		}
	}
	return out;
}

/* SHA256:<base64> of the DER SubjectPublicKeyInfo; 0 on failure. */
static int
compute_fingerprint(EVP_PKEY *pkey, char *out, size_t outlen)
{
	unsigned char *der = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int			n = i2d_PUBKEY(pkey, &der);
	char		enc[64];

	if (n <= 0)
		return 0;
	if (!EVP_Digest(der, (size_t) n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
	{
		OPENSSL_free(der);
		return 0;
	}
	OPENSSL_free(der);
	b64(md, mdlen, enc);
	snprintf(out, outlen, "SHA256:%s", enc);
	return 1;
}

SfKey *
sfjwt_key_load(const char *secret, size_t len, int *code)
{
	PassState	ps = {0};
	BIO		   *bio;
	EVP_PKEY   *pkey;
	SfKey	   *key;

	*code = SFJWT_NOT_PEM;
	if (secret == NULL || len == 0 || len > 1024 * 1024)
		return NULL;
	ps.pass = find_passphrase(secret, len, &ps.len);
	bio = BIO_new_mem_buf(secret, (int) len);
	if (bio == NULL)
	{
		*code = SFJWT_NO_MEMORY;
		return NULL;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &ps);
	BIO_free(bio);
	ERR_clear_error();
	if (pkey == NULL)
	{
		if (ps.asked)
			*code = ps.pass ? SFJWT_BAD_PASSPHRASE : SFJWT_NEED_PASSPHRASE;
		return NULL;
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
	{
		EVP_PKEY_free(pkey);
		*code = SFJWT_NOT_RSA;
		return NULL;
	}
	key = calloc(1, sizeof(SfKey));
	if (key == NULL || !compute_fingerprint(pkey, key->fingerprint, sizeof(key->fingerprint)))
	{
		free(key);
		EVP_PKEY_free(pkey);
		ERR_clear_error();
		*code = SFJWT_NO_MEMORY;
		return NULL;
	}
	key->pkey = pkey;
	*code = SFJWT_OK;
	return key;
}

void
sfjwt_key_free(SfKey *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

const char *
sfjwt_key_fingerprint(const SfKey *key)
{
	return key->fingerprint;
}

void
sfjwt_account_name(const char *account, char *out, size_t outlen)
{
	size_t		i = 0;

	if (outlen == 0)
		return;
	for (; account != NULL && account[i] && account[i] != '.' && i + 1 < outlen; i++)
		out[i] = (char) toupper((unsigned char) account[i]);
	out[i] = '\0';
}

/* Appends s upper-cased and JSON-escaped (quotes, backslashes, control bytes) at *w. */
static char *
put_upper_json(char *w, const char *s)
{
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
		{
			*w++ = '\\';
			*w++ = (char) c;
		}
		else if (c < 0x20)
			w += sprintf(w, "\\u%04x", c);
		else
			*w++ = (char) toupper(c);
	}
	return w;
}

/* The JWT claims: iss, sub, iat, exp (JSON text, malloc'd). */
static char *
claims_json(const SfKey *key, const char *account, const char *user, long long iat, long long exp)
{
	size_t		room = 6 * (strlen(account) + strlen(user)) * 2 + strlen(key->fingerprint) + 128;
	char	   *json = malloc(room);
	char	   *w = json;

	if (json == NULL)
		return NULL;
	w += sprintf(w, "{\"iss\":\"");
	w = put_upper_json(w, account);
	*w++ = '.';
	w = put_upper_json(w, user);
	w += sprintf(w, ".%s\",\"sub\":\"", key->fingerprint);
	w = put_upper_json(w, account);
	*w++ = '.';
	w = put_upper_json(w, user);
	sprintf(w, "\",\"iat\":%lld,\"exp\":%lld}", iat, exp);
	return json;
}

/* RS256 signature of data, base64url; NULL on failure. */
static char *
sign_rs256(EVP_PKEY *pkey, const char *data)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *sig = NULL;
	size_t		siglen = 0;
	char	   *out = NULL;

	if (ctx != NULL &&
		EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
		EVP_DigestSign(ctx, NULL, &siglen, (const unsigned char *) data, strlen(data)) == 1 &&
		(sig = malloc(siglen)) != NULL &&
		EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *) data, strlen(data)) == 1)
		out = b64url(sig, siglen);
	free(sig);
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return out;
}

char *
sfjwt_token(const SfKey *key, const char *account, const char *user, long long iat, long long exp)
{
	static const char header[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
	char		acct[256];
	char	   *claims;
	char	   *h64;
	char	   *c64;
	char	   *input = NULL;
	char	   *sig = NULL;
	char	   *token = NULL;

	if (key == NULL || account == NULL || user == NULL)
		return NULL;
	sfjwt_account_name(account, acct, sizeof(acct));
	claims = claims_json(key, acct, user, iat, exp);
	h64 = b64url((const unsigned char *) header, strlen(header));
	c64 = claims ? b64url((const unsigned char *) claims, strlen(claims)) : NULL;
	if (h64 && c64 && (input = malloc(strlen(h64) + strlen(c64) + 2)) != NULL)
	{
		sprintf(input, "%s.%s", h64, c64);
		sig = sign_rs256(key->pkey, input);
		if (sig && (token = malloc(strlen(input) + strlen(sig) + 2)) != NULL)
			sprintf(token, "%s.%s", input, sig);
	}
	free(claims);
	free(h64);
	free(c64);
	free(input);
	free(sig);
	return token;
}

const char *
sfjwt_reason(int code)
{
	switch (code)
	{
		case SFJWT_OK:
			return "ok";
		case SFJWT_NOT_PEM:
			return "it is not a PEM private key";
		case SFJWT_NEED_PASSPHRASE:
			return "the key is encrypted and no passphrase was given";
		case SFJWT_BAD_PASSPHRASE:
			return "the key is encrypted and could not be decrypted (wrong passphrase or damaged key)";
		case SFJWT_NOT_RSA:
			return "it is not an RSA key (Snowflake key-pair authentication takes RSA keys)";
		case SFJWT_NO_MEMORY:
			return "out of memory";
	}
	return "unknown error";
}
