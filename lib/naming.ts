/** Construct ids from slugs: `open-athens_raw.v2` → `OpenAthensRawV2`. Ids are a contract, so this never changes. */
export function pascalCase(slug: string): string {
  return slug
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
