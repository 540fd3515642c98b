// Generated name fragments as the API server and controllers make them: characters from
// apimachinery's alphanumerics without vowels and look-alikes, so no words or 0/O 1/l confusion.
import { randomBytes } from 'node:crypto';

export const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Five random characters, as generateName and the kube-api-access volume get. */
export const nameSuffix = (length = 5) =>
  Array.from(randomBytes(length), (b) => SAFE_ALPHABET[b % SAFE_ALPHABET.length]).join('');
