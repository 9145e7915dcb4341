import QRCode from 'qrcode';
import { qrSvgOf } from './presenters';

describe("an invoice's QR code", () => {
  const made = jest.spyOn(QRCode, 'toString');
  beforeEach(() => made.mockClear());

  it('is made once for a payment URI shown again (the booking, its page, its stream)', async () => {
    const uri = `bitcoin:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq?amount=0.0012&lightning=lnbc1${Date.now()}`;
    const first = await qrSvgOf(uri);
    expect(first).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    expect(await qrSvgOf(uri)).toBe(first);
    expect(await qrSvgOf(uri)).toBe(first);
    expect(made).toHaveBeenCalledTimes(1);
    expect(await qrSvgOf(`${uri}0`)).not.toBe(first);
    expect(made).toHaveBeenCalledTimes(2);
  });

  it('is not kept when it cannot be made, so the next showing tries again', async () => {
    const tooLong = `lightning:${'x'.repeat(8_000)}`;
    await expect(qrSvgOf(tooLong)).rejects.toThrow();
    await expect(qrSvgOf(tooLong)).rejects.toThrow();
    expect(made).toHaveBeenCalledTimes(2);
  });
});
