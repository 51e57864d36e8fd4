/* pii (prefix pii_): keeping a learner's personal data (the data a retirement deletes) and
 * secrets out of what retirectl keeps: case-insensitive replacement of known strings and of
 * anything shaped like an email address. Used by the audit log and the history. */
#ifndef RETIRECTL_PII_H
#define RETIRECTL_PII_H

/* Replaces every case-insensitive occurrence of needle in *s by repl (*s is malloc'd and may be
 * replaced). An empty needle changes nothing. */
void pii_replace_all(char **s, const char *needle, const char *repl);
/* Replaces anything shaped like local@domain.tld in *s (malloc'd) by "[redacted]". */
void pii_scrub_emails(char **s);
/* The login name: getlogin, $USER/$LOGNAME, the uid's passwd entry, else "uid N". malloc'd. */
char *pii_login_name(void);

#endif
