// A generated provider for scale and escaping tests: `stackql_bulk.many` holds 5,000 resources
// (names and titles to filter), and `stackql_bulk.odd.html_descriptions` carries HTML in its texts.

const words = ['instances', 'volumes', 'snapshots', 'buckets', 'functions', 'clusters', 'queues', 'topics']

function many() {
  const resources = {}
  for (let i = 0; i < 5000; i++) {
    const word = words[i % words.length]
    resources[`${word}_${String(i).padStart(4, '0')}`] = {
      required: ['region'],
      description: `Bulk ${word} number ${i}`,
      columns: [
        ['id', 'string', 'Identifier'],
        ['name', 'string', 'Name'],
        ['region', 'string', 'Region (parameter)'],
      ],
      rows: () => [],
    }
  }
  return resources
}

let manyResources

export const bulkProviders = {
  stackql_bulk: {
    title: 'Stand-in scale fixtures',
    services: {
      // Generated on first use: building 5,000 resources costs every stand-in process ~60 ms of CPU
      // at start-up, which dominated parallel slices on a 2-core machine (bench fanout).
      many: {
        title: 'Five thousand resources',
        get resources() {
          manyResources ??= many()
          return manyResources
        },
      },
      odd: {
        title: 'Odd <b>texts</b>',
        resources: {
          html_descriptions: {
            required: [],
            description: '<img src=x onerror=alert(1)> resource',
            columns: [
              ['id', 'string', '<script>alert("column")</script> identifier'],
              ['note', 'string', 'A & B <i>italic</i>'],
            ],
            rows: () => [{ id: '1', note: 'n' }],
          },
        },
      },
    },
  },
}
