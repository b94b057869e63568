/*
 * snowflake_jwt.h — Snowflake key-pair authentication: the RSA private key
 * (PEM, optionally encrypted), its public key fingerprint and the RS256 JWT
 * the SQL API takes as "Authorization: Bearer".  Plain C over OpenSSL's
 * libcrypto (no PostgreSQL header, no palloc, never throws): errors come back
 * as text that never contains key material; OpenSSL's error queue is cleared
 * on every path (libpq and libcurl share it in this process).
 */
#ifndef BB_SNOWFLAKE_JWT_H
#define BB_SNOWFLAKE_JWT_H

#include <stddef.h>

typedef struct SfKey SfKey;		/* a loaded RSA key and its fingerprint */

/* Reasons a key does not load (err text says which, for people). */
#define SFJWT_OK 0
#define SFJWT_NOT_PEM 1			/* not a PEM private key at all */
#define SFJWT_NEED_PASSPHRASE 2 /* encrypted, and no passphrase was given */
#define SFJWT_BAD_PASSPHRASE 3	/* encrypted: wrong passphrase or damaged key */
#define SFJWT_NOT_RSA 4			/* Snowflake takes RSA keys only */
#define SFJWT_NO_MEMORY 5

/*
 * Loads a private key from the instance's secret: a PEM block ("BEGIN PRIVATE
 * KEY", "BEGIN RSA PRIVATE KEY" or "BEGIN ENCRYPTED PRIVATE KEY"); an encrypted
 * key takes its passphrase from a line "passphrase: ..." after the block.
 * Returns NULL with *code set (SFJWT_*) when it cannot.
 */
extern SfKey *sfjwt_key_load(const char *secret, size_t len, int *code);
extern void sfjwt_key_free(SfKey *key);

/* "SHA256:<base64 of the SHA-256 of the public key's DER SubjectPublicKeyInfo>". */
extern const char *sfjwt_key_fingerprint(const SfKey *key);

/* The account as the JWT names it: upper-cased, from the first '.' on dropped
 * ("xy12345.us-east-1" -> "XY12345"); out has room for outlen bytes. */
extern void sfjwt_account_name(const char *account, char *out, size_t outlen);

/*
 * A signed RS256 JWT: iss = ACCOUNT.USER.<fingerprint>, sub = ACCOUNT.USER
 * (both upper-cased), iat, exp.  Returns malloc'd text, NULL when out of
 * memory or signing failed.
 */
extern char *sfjwt_token(const SfKey *key, const char *account, const char *user,
						 long long iat, long long exp);

/* A human reason for a SFJWT_* code. */
extern const char *sfjwt_reason(int code);

#endif
