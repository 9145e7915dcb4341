import { withData, withHead } from './web-client';

const INDEX = '<!doctype html><html><head><title>CryptoCare</title><meta name="description" content="x" /></head><body><script type="module" src="/assets/index.js"></script></body></html>';

describe("a professional's page head and data block", () => {
  it("puts a name with $& and $' in as text (a replacement pattern would splice the page into itself)", () => {
    const name = "Dr. $' $& $` <b>";
    const page = withHead(INDEX, `${name} · CryptoCare`, name);
    expect(page).toContain('<title>Dr. $&#39; $&amp; $` &lt;b&gt; · CryptoCare</title>');
    expect(page).toContain('<meta name="description" content="Dr. $&#39; $&amp; $` &lt;b&gt;" />');
    expect(page.match(/<script/g)).toHaveLength(1);
  });

  it('keeps the data block one element whatever the data says, and the data intact', () => {
    const value = { displayName: "$' </script><script>alert(1)</script> $&", bio: '$`' };
    const page = withData(INDEX, 'professional-data', value);
    const block = /<script type="application\/json" id="professional-data">([^<]*)<\/script><\/head>/.exec(page);
    expect(block).not.toBeNull();
    expect(JSON.parse(block![1]!)).toEqual(value);
    expect(page.match(/<script/g)).toHaveLength(2);
  });
});
