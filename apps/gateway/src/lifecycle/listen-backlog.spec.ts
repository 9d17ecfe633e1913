import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backlogCapWarning } from './listen-backlog';

function somaxconnFile(value: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'somaxconn-')), 'somaxconn');
  writeFileSync(file, `${value}\n`);
  return file;
}

describe('backlogCapWarning', () => {
  it('says when the kernel caps LISTEN_BACKLOG below what was asked, naming both and the sysctl', () => {
    const warning = backlogCapWarning(4096, somaxconnFile('128'));
    expect(warning).toContain('LISTEN_BACKLOG is 4096');
    expect(warning).toContain('net.core.somaxconn caps it at 128');
  });

  it('is silent when the kernel grants the backlog, or cannot be asked (not Linux)', () => {
    expect(backlogCapWarning(4096, somaxconnFile('4096'))).toBeNull();
    expect(backlogCapWarning(511, somaxconnFile('4096'))).toBeNull();
    expect(backlogCapWarning(4096, join(tmpdir(), 'no-such-dir', 'somaxconn'))).toBeNull();
  });
});
