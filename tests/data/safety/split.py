# Splits the hand-written sets into dev (even MEDEC pair index) and heldout (odd), adding `| split: …`.
import re, glob, csv
rows = list(csv.DictReader(open('data/medec/MEDEC-MS-ValidationSet-with-GroundTruth-and-ErrorType.csv')))
pair_index = {r['Text ID']: i for i, r in enumerate(r for r in rows if r['Error Flag'] == '1')}
for kind in ('faithful', 'onefact'):
    items = []
    for path in sorted(glob.glob(f'out/{kind}-*.txt')):
        text = open(path, encoding='utf-8').read()
        for block in re.split(r'(?m)^(?====)', text):
            if not block.startswith('==='):
                continue
            header, _, body = block.partition('\n')
            note = re.search(r'note:\s*(\S+)', header).group(1)
            split = 'dev' if pair_index[note] % 2 == 0 else 'heldout'
            items.append((split, header.rstrip() + f' | split: {split}\n' + body.rstrip() + '\n'))
    for split in ('dev', 'heldout'):
        chosen = [b for s, b in items if s == split]
        import os; os.makedirs(f'./{split}', exist_ok=True)
        open(f'./{split}/{kind}-{split}.txt', 'w', encoding='utf-8').write('\n'.join(chosen))
        print(kind, split, len(chosen))
