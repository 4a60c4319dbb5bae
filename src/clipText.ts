// Shortening a text for a one-line label or message: at most `max` characters, the last of them
// an ellipsis when something was cut. Pure, shared by the analyzer's messages and run labels.

export function clipText(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
