export function formatTime(iso: string): string {
  // UTC, so that the server-rendered page and the browser agree.
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}
