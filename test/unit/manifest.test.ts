// The contributions in package.json as a user meets them: settings in one style with
// descriptions for every value, a repository for links, menus that only offer what applies,
// lens titles cased like the command titles.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ADD_REGULARIZER_TITLE, PROBE_COMMAND_TITLE, probeLensTitle } from '../../src/analysis/lenses/lensTitles';
import { INSERT_DROPOUT_TITLE } from '../../src/analysis/lenses/insertDropout';

const root = path.join(__dirname, '../..');
interface Setting {
  type: string;
  enum?: string[];
  enumDescriptions?: string[];
  description?: string;
  markdownDescription?: string;
}
interface Menu {
  command: string;
  when?: string;
  group?: string;
}
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  repository?: { url: string };
  contributes: {
    commands: { command: string; title: string }[];
    configuration: { title: string; properties: Record<string, Setting> };
    menus: Record<string, Menu[]>;
    viewsWelcome: { view: string; when?: string; contents: string }[];
    viewsContainers: { activitybar: { icon: string }[] };
  };
};
const settings = Object.entries(pkg.contributes.configuration.properties);
const title = (id: string) => pkg.contributes.commands.find((c) => c.command === id)?.title;

describe('package.json contributions', () => {
  it('declares the repository its settings link to', () => {
    assert.equal(pkg.repository?.url, 'https://github.com/reglens/reglens');
    const links = settings.flatMap(([, s]) => [...(s.markdownDescription ?? '').matchAll(/\]\((https:[^)]+)\)/g)].map((m) => m[1]));
    assert.ok(links.length > 0);
    for (const link of links) assert.ok(link.startsWith(`${pkg.repository!.url}/`), link);
  });

  it('titles the settings category "RegLens" and describes every setting alike: markdown, sentence case, a full stop', () => {
    assert.equal(pkg.contributes.configuration.title, 'RegLens');
    for (const [key, s] of settings) {
      assert.equal(s.description, undefined, `${key} uses markdownDescription like the others`);
      const d = s.markdownDescription ?? '';
      assert.match(d, /^[A-Z`]/, `${key} starts with a capital: ${d}`);
      assert.match(d, /\.\)?$/, `${key} ends with a full stop: ${d}`);
    }
  });

  it('describes every value of every enum setting, severities included', () => {
    const enums = settings.filter(([, s]) => s.enum);
    assert.ok(enums.filter(([k]) => k.endsWith('.severity')).length >= 13);
    for (const [key, s] of enums) assert.equal(s.enumDescriptions?.length, s.enum!.length, key);
  });

  it('cases the lens titles like the command titles', () => {
    assert.equal(ADD_REGULARIZER_TITLE, title('reglens.addRegularizer'));
    assert.equal(INSERT_DROPOUT_TITLE, title('reglens.insertDropout'));
    assert.equal(PROBE_COMMAND_TITLE, title('reglens.probeModel'));
    assert.equal(probeLensTitle('pytorch'), 'Probe this PyTorch Model…');
    assert.equal(probeLensTitle('tfjs'), 'Probe this TF.js Model…');
  });

  it('offers Compare with two runs, Save Pruned Model where there is one, and Delete in its own last group', () => {
    const items = pkg.contributes.menus['view/item/context'];
    const compare = [...items, ...pkg.contributes.menus['view/title']].filter((m) => m.command === 'reglens.compareRuns');
    for (const m of compare) assert.match(m.when ?? '', /reglens\.runCount >= 2/);
    const save = items.find((m) => m.command === 'reglens.savePrunedModel')!;
    const re = /viewItem =~ \/(.+)\/$/.exec(save.when ?? '')!;
    const matches = new RegExp(re[1]);
    assert.ok(matches.test('run.finished prunedModel'));
    assert.ok(!matches.test('run.finished'), 'not on a run without a pruned model');
    const del = items.find((m) => m.command === 'reglens.deleteRun')!;
    const groups = [...new Set(items.map((m) => m.group!.split('@')[0]).filter((g) => g !== 'inline'))].sort();
    assert.equal(del.group!.split('@')[0], groups[groups.length - 1], 'Delete sorts last');
    assert.equal(items.filter((m) => m.group?.split('@')[0] === del.group!.split('@')[0]).length, 1, 'alone in its group');
  });

  it('makes "Open Example Experiment" the first welcome button when the workspace has no experiment file', () => {
    const welcome = pkg.contributes.viewsWelcome.filter((w) => w.view === 'reglens.runs');
    const none = welcome.find((w) => w.when === '!reglens.hasExperimentFile')!;
    const some = welcome.find((w) => w.when === 'reglens.hasExperimentFile')!;
    assert.match(none.contents, /^[^[]*\[Open Example Experiment\]\(command:reglens\.openExample\)/);
    assert.ok(!none.contents.includes('command:reglens.runExperiment'));
    assert.match(some.contents, /^[^[]*\[Run Experiment\]\(command:reglens\.runExperiment\)/);
  });

  it('has its own activity-bar icon: a 24x24 monochrome SVG in currentColor', () => {
    const icon = pkg.contributes.viewsContainers.activitybar[0].icon;
    const svg = fs.readFileSync(path.join(root, icon), 'utf8');
    assert.match(svg, /viewBox="0 0 24 24"/);
    assert.match(svg, /width="24" height="24"/);
    const colours = [...svg.matchAll(/(?:fill|stroke)="([^"]+)"/g)].map((m) => m[1]).filter((c) => c !== 'none');
    assert.ok(colours.length > 0);
    assert.deepEqual([...new Set(colours)], ['currentColor']);
    assert.ok(!/style=|<image|<text/.test(svg), 'no inline styles, raster images or text');
  });
});
