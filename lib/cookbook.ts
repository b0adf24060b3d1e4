/**
 * The cookbook's own constants, copied from its text ("국가 분류 튜닝 task", CLOVA Studio cookbook,
 * 2024; its source is named in `data/cookbook/README.md`): its six-continent scheme, its UN member list,
 * its text templates, its tuning and sampling settings and its tuning-set sizes. Everything here
 * is data the cookbook published; modules import it rather than re-typing it.
 *
 * @module
 */

/** The cookbook's six continents, in the order of its dictionary. */
export const CONTINENTS = [
  "아시아",
  "유럽",
  "북아메리카",
  "남아메리카",
  "아프리카",
  "오세아니아",
] as const;

/** One of the cookbook's six continents. */
export type Continent = typeof CONTINENTS[number];

/**
 * The cookbook's `un_countries` dictionary as its generator code lists it (192 names; DR Congo is
 * missing). Order within each continent is the cookbook's.
 */
export const COOKBOOK_COUNTRIES: Readonly<Record<Continent, readonly string[]>> = {
  "아시아": [
    "아프가니스탄",
    "방글라데시",
    "부탄",
    "브루나이",
    "캄보디아",
    "중국",
    "키프로스",
    "동티모르",
    "인도",
    "인도네시아",
    "이란",
    "이라크",
    "이스라엘",
    "일본",
    "요르단",
    "카자흐스탄",
    "북한",
    "대한민국",
    "쿠웨이트",
    "키르기스스탄",
    "라오스",
    "바레인",
    "레바논",
    "말레이시아",
    "몰디브",
    "몽골",
    "미얀마",
    "네팔",
    "오만",
    "파키스탄",
    "필리핀",
    "카타르",
    "러시아",
    "사우디아라비아",
    "싱가포르",
    "스리랑카",
    "시리아",
    "타지키스탄",
    "태국",
    "튀르키예",
    "투르크메니스탄",
    "아랍 에미리트",
    "우즈베키스탄",
    "베트남",
    "예멘",
  ],
  "유럽": [
    "알바니아",
    "안도라",
    "아르메니아",
    "오스트리아",
    "아제르바이잔",
    "벨라루스",
    "벨기에",
    "보스니아 헤르체고비나",
    "불가리아",
    "크로아티아",
    "체코",
    "덴마크",
    "에스토니아",
    "핀란드",
    "프랑스",
    "조지아",
    "독일",
    "그리스",
    "헝가리",
    "아이슬란드",
    "아일랜드",
    "이탈리아",
    "라트비아",
    "리히텐슈타인",
    "리투아니아",
    "룩셈부르크",
    "몰타",
    "몰도바",
    "모나코",
    "몬테네그로",
    "네덜란드",
    "북마케도니아",
    "노르웨이",
    "폴란드",
    "포르투갈",
    "루마니아",
    "산마리노",
    "세르비아",
    "슬로바키아",
    "슬로베니아",
    "스페인",
    "스웨덴",
    "스위스",
    "우크라이나",
    "영국",
  ],
  "북아메리카": [
    "앤티가 바부다",
    "바하마",
    "바베이도스",
    "벨리즈",
    "캐나다",
    "코스타리카",
    "쿠바",
    "도미니카",
    "도미니카 공화국",
    "엘살바도르",
    "그레나다",
    "과테말라",
    "아이티",
    "온두라스",
    "자메이카",
    "멕시코",
    "니카라과",
    "파나마",
    "세인트 키츠 네비스",
    "세인트 루시아",
    "세인트 빈센트 그레나딘",
    "트리니다드 토바고",
    "미국",
  ],
  "남아메리카": [
    "아르헨티나",
    "볼리비아",
    "브라질",
    "칠레",
    "콜롬비아",
    "에콰도르",
    "가이아나",
    "파라과이",
    "페루",
    "수리남",
    "우루과이",
    "베네수엘라",
  ],
  "아프리카": [
    "알제리",
    "앙골라",
    "베냉",
    "보츠와나",
    "부르키나파소",
    "부룬디",
    "카보베르데",
    "카메룬",
    "중앙아프리카 공화국",
    "차드",
    "코모로",
    "콩고",
    "코트디부아르",
    "지부티",
    "이집트",
    "적도 기니",
    "에리트레아",
    "에스와티니",
    "에티오피아",
    "가봉",
    "감비아",
    "가나",
    "기니",
    "기니비사우",
    "케냐",
    "레소토",
    "라이베리아",
    "리비아",
    "마다가스카르",
    "말라위",
    "말리",
    "모리타니아",
    "모리셔스",
    "모로코",
    "모잠비크",
    "나미비아",
    "니제르",
    "나이지리아",
    "르완다",
    "상투메 프린시페",
    "세네갈",
    "세이셸",
    "시에라리온",
    "소말리아",
    "남아프리카 공화국",
    "남수단",
    "수단",
    "탄자니아",
    "토고",
    "튀니지",
    "우간다",
    "잠비아",
    "짐바브웨",
  ],
  "오세아니아": [
    "오스트레일리아",
    "피지",
    "키리바시",
    "마셜 제도",
    "미크로네시아 연방",
    "나우루",
    "뉴질랜드",
    "팔라우",
    "파푸아뉴기니",
    "사모아",
    "솔로몬 제도",
    "통가",
    "투발루",
    "바누아투",
  ],
};

/**
 * Where the cookbook's first listing (the "UN 회원국 목록 크롤링" block) differs from the generator's
 * dictionary: a typo.
 */
export const COOKBOOK_FIRST_LISTING_TYPOS: readonly { listed: string; intended: string }[] = [
  { listed: "도미니카 공화국터", intended: "도미니카 공화국" },
];

/** First line of every tuning `Text` and evaluation `user` prompt, followed by the country list. */
export const TEXT_PREFIX = "목록에서 나라를 대륙별로 분류해줘.\n\n";

/** First line of every tuning `Completion`, followed by `대륙: 나라, 나라` blocks. */
export const COMPLETION_PREFIX = "목록에 있는 나라들을 대륙별로 분류하면 다음과 같습니다\n\n";

/** Separator between countries in a prompt and within a completion block. */
export const LIST_SEPARATOR = ", ";

/** The two base models the cookbook tuned. */
export const BASE_MODELS = ["HCX-003", "HCX-DASH-001"] as const;

/** The cookbook's tuning-set sizes: 50, 100 … 1,000 in steps of 100, 2,000 and 10,000. */
export const TUNING_SIZES: readonly number[] = [
  50,
  ...Array.from({ length: 10 }, (_, i) => (i + 1) * 100),
  2000,
  10000,
];

/** The cookbook's tuning settings (legacy `/v2/tasks` multipart fields). */
export const TUNING_SETTINGS = {
  method: "LORA",
  taskType: "GENERATION",
  trainEpochs: 4,
  learningRate: 1e-4,
} as const;

/** The cookbook's sampling parameters for evaluation (v1 chat-completions body). */
export const SAMPLING_PARAMETERS = {
  topP: 0.6,
  topK: 0,
  maxTokens: 256,
  temperature: 0.5,
  repeatPenalty: 1.2,
  includeAiFilters: false,
} as const;

/** Training mix by countries per row: 10/15/20/30 in ratio 1:3:3:3. */
export const TRAINING_COUNTRY_MIX: Readonly<Record<number, number>> = {
  10: 1,
  15: 3,
  20: 3,
  30: 3,
};

/** Training and evaluation mix by continents per row: 2–6 in equal shares. */
export const CONTINENT_MIX: Readonly<Record<number, number>> = { 2: 1, 3: 1, 4: 1, 5: 1, 6: 1 };

/** Evaluation mix by countries per prompt: 25% each of 10/15/20/30. */
export const EVAL_COUNTRY_MIX: Readonly<Record<number, number>> = { 10: 1, 15: 1, 20: 1, 30: 1 };

/** Number of evaluation prompts in the cookbook's set. */
export const EVAL_PROMPTS = 100;
