// Text helpers shared by layers that know nothing of each other (the logger's redaction, the route table).

/** `text` as a regular expression matching exactly it. */
export const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
