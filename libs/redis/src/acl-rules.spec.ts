import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataNodeAclRules } from './acl-rules';

describe('dataNodeAclRules', () => {
  it('limits the user to the namespace and adds what the Cluster client needs on a Cluster only', () => {
    const single = dataNodeAclRules('rsc', 'standalone');
    expect(single).toMatch(/^resetkeys ~rsc:\* resetchannels -@all \+ping /);
    expect(single).not.toContain('cluster|slots');
    expect(dataNodeAclRules('rsc', 'cluster')).toBe(
      `${single} +cluster|slots +cluster|info +client|setname +readonly +readwrite`,
    );
  });

  it('is what the README tells operators to grant', () => {
    const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
    expect(readme).toContain(`ACL SETUSER <user> on ><password> ${dataNodeAclRules('<prefix>', 'standalone')}\n`);
    expect(readme).toContain('ACL SETUSER <user> +cluster|slots +cluster|info +client|setname +readonly +readwrite\n');
  });
});
