/**
 * PAM's response envelope, as the vendor pages show it (../shared/seeds/000_d9c2284402cf494c.txt and
 * 001_9330fd820b24a561.txt, "Encerrar uma sessão proxy" / "Terminate a proxy session": the 200 and the
 * 500 of the drop; 002_31771ed22dc073b2.txt: the list's, with `code`, `tenant` and `remote_sessions`).
 */
export function envelope(status: number, message: string, errorCode: number) {
  const error = errorCode !== 0;
  return {
    status,
    message,
    error,
    error_code: errorCode,
    detail: '',
    mensagem: message,
    erro: error,
    cod_erro: errorCode,
  };
}
