/**
 * Ready-to-paste unattended agent installs for a customer (ACRONIS-API.md §7): the exact
 * data-centre URL and the registration token. Linux: the installer's `-a` (unattended) with
 * `--rain` and `--token`; Windows: the EXE's `--quiet` with `--reg-address` and `--reg-token`.
 */
export function agentInstallCommands(input: { dataCenterUrl: string; token: string }): { windows: string; linux: string } {
  const dc = input.dataCenterUrl.replace(/\/+$/, '').replace(/\/api\/2$/, '');
  return {
    windows: `Cyber_Protection_Agent_for_Windows_x64.exe --quiet --reg-address=${dc} --reg-token=${input.token}`,
    linux: `sudo ./Cyber_Protection_Agent_for_Linux_x86_64.bin -a --rain=${dc} --token=${input.token}`,
  };
}
