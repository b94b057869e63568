/*
 * lex.h — the one lexer of the review code.  The splitter (split.c), the
 * checkers' tokenizer (token.c) and the server-side check (pg_split_check.c)
 * all read a script through bb_lex_next, so they can never disagree on where
 * a string, a comment or a statement ends.  Each dialect's rules mirror its
 * server's own scanner (see the rule table in lex.c).  Plain C, byte-oriented,
 * never reads outside [0, len), never recurses, linear in the input.
 */
#ifndef BB_REVIEW_LEX_H
#define BB_REVIEW_LEX_H

#include <stddef.h>

#include "review.h"

typedef enum bb_lex_kind
{
	BB_LEX_EOF = 0,
	BB_LEX_SPACE,				/* white space */
	BB_LEX_COMMENT,				/* text the server skips: -- # // and slash-star comments */
	BB_LEX_EXEC_OPEN,			/* MySQL/TiDB executable-comment opener: what follows is code */
	BB_LEX_EXEC_CLOSE,			/* the star-slash that ends an executable comment */
	BB_LEX_WORD,				/* keyword or identifier */
	BB_LEX_QIDENT,				/* "x" (PostgreSQL, ClickHouse, Snowflake), `x` */
	BB_LEX_STRING,				/* 'x', E'x', $$x$$, $tag$x$tag$, MySQL "x", ClickHouse heredoc */
	BB_LEX_NUMBER,
	BB_LEX_VAR,					/* $1 ? @x @@x :x (Snowflake) $x (Snowflake) */
	BB_LEX_OP					/* operator or any other single byte */
} bb_lex_kind;

typedef struct bb_lex_token
{
	bb_lex_kind kind;
	size_t		start;			/* bytes [start, end) of the script */
	size_t		end;
	/* BB_SPLIT_OK; an UNTERMINATED_* error (the token runs to the end of the
	 * input); or BB_SPLIT_UNCERTAIN: servers or versions read this text
	 * differently, `why` says how (static text). */
	bb_split_error error;
	const char *why;
} bb_lex_token;

struct bb_lex_syntax;

typedef struct bb_lexer
{
	const struct bb_lex_syntax *sx;
	bb_dialect	dialect;
	const char *s;
	size_t		len;
	size_t		pos;
	int			in_exec;		/* inside a MySQL/TiDB executable comment */
	int			plain_next;		/* MySQL: the next byte is one character (after "1.5e") */
	bb_lex_kind prev_kind;		/* last token that was not space or comment */
	char		prev_byte;		/* ... and its first byte (ClickHouse tuple access x.1.1) */
	size_t		budget;			/* bytes the ClickHouse heredoc search may still read */
} bb_lexer;

/* Starts a lexer at the beginning of s[0, len). */
void		bb_lex_init(bb_lexer *lx, bb_dialect dialect, const char *s, size_t len);

/* Reads the token at lx->pos and moves past it (EOF at the end). */
void		bb_lex_next(bb_lexer *lx, bb_lex_token *t);

/* Moves to another position: a statement start (the server lexes each
 * statement afresh, but an open executable comment is kept). */
void		bb_lex_seek(bb_lexer *lx, size_t pos);

/* Case-insensitive test of n bytes / a word token against an upper-case keyword. */
int			bb_lex_keyword(const char *w, size_t n, const char *kw);
int			bb_lex_word_is(const char *s, const bb_lex_token *t, const char *kw);

/* The reason of the first uncertain construct at or after byte `from` of a
 * script as bb_split sees it (statement-level reasons included), with its
 * byte offset in *at; NULL when there is none. */
const char *bb_split_uncertain_reason(bb_dialect dialect, const char *s, size_t len,
									  size_t from, size_t *at);

#endif
