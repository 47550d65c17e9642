/**
 * Text from outside (IdP group names, emails, error messages) made safe to print on a terminal.
 * Control characters (C0, DEL, C1) would let a group named `\x1b]0;…\x07` retitle the terminal
 * or erase lines, and bidirectional overrides reorder what is shown; each is printed as a
 * visible `\xNN` / `\uNNNN` escape instead, so the reader still sees that it is there.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const code = char.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
