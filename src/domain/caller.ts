/** Who is calling: the owner that scopes every read and write, the key, and its limits. */
export interface Caller {
  userId: string;
  keyId: string;
  limits: { rpm: number; concurrency: number };
}
