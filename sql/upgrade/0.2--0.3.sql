-- bytebase 0.2 -> 0.3: the fragments of sql/0.3/ follow this head.  Each fragment runs both
-- after the 0.2 install script (a fresh install of 0.3) and as this update, so it adds objects,
-- replaces functions (CREATE OR REPLACE, or DROP + CREATE when a signature changes), alters
-- tables, and re-grants what it defines.
\echo Use "ALTER EXTENSION bytebase UPDATE" to load this file. \quit
