"""The cookbook's tuning-set generator, as a whole process for the benchmarks in this folder.

Copied from the cookbook "국가 분류 튜닝 task" (NAVER Cloud CLOVA Studio cookbook by ejehoon,
https://github.com/ejehoon/NAVER_CLOUD-CLOVA_Studio, section "튜닝용 데이터셋 생성"): the
`un_countries` dictionary and the generator loop are verbatim. The only changes: the loop sits in a
function so that one run writes the cookbook's 10,000-row mix (10/15/20/30 countries as 1:3:3:3,
2–6 continents each) into one CSV, and the file name and row count come from the command line.

    python3 tests/bench/cookbook_generator.py OUT.csv [ROWS]

ROWS (default 10000) must be a multiple of 50: ROWS/50 rows of 10 countries and 3·ROWS/50 of each
of 15, 20 and 30 countries, per continent count (2 to 6).
"""
import csv
import random
import sys

# UN에 가입된 국가들을 대륙별로 분류한 딕셔너리
un_countries = {
    "아시아": ["아프가니스탄", "방글라데시", "부탄", "브루나이", "캄보디아", "중국", "키프로스", "동티모르", "인도", "인도네시아", "이란", "이라크", "이스라엘", "일본", "요르단", "카자흐스탄", "북한", "대한민국", "쿠웨이트", "키르기스스탄", "라오스", "바레인", "레바논", "말레이시아", "몰디브", "몽골", "미얀마", "네팔", "오만", "파키스탄", "필리핀", "카타르", "러시아", "사우디아라비아", "싱가포르", "스리랑카", "시리아", "타지키스탄", "태국", "튀르키예", "투르크메니스탄", "아랍 에미리트", "우즈베키스탄", "베트남", "예멘"],
    "유럽": ["알바니아", "안도라", "아르메니아", "오스트리아", "아제르바이잔", "벨라루스", "벨기에", "보스니아 헤르체고비나", "불가리아", "크로아티아", "체코", "덴마크", "에스토니아", "핀란드", "프랑스", "조지아", "독일", "그리스", "헝가리", "아이슬란드", "아일랜드", "이탈리아", "라트비아", "리히텐슈타인", "리투아니아", "룩셈부르크", "몰타", "몰도바", "모나코", "몬테네그로", "네덜란드", "북마케도니아", "노르웨이", "폴란드", "포르투갈", "루마니아", "산마리노", "세르비아", "슬로바키아", "슬로베니아", "스페인", "스웨덴", "스위스", "우크라이나", "영국"],
    "북아메리카": ["앤티가 바부다", "바하마", "바베이도스", "벨리즈", "캐나다", "코스타리카", "쿠바", "도미니카", "도미니카 공화국", "엘살바도르", "그레나다", "과테말라", "아이티", "온두라스", "자메이카", "멕시코", "니카라과", "파나마", "세인트 키츠 네비스", "세인트 루시아", "세인트 빈센트 그레나딘", "트리니다드 토바고", "미국"],
    "남아메리카": ["아르헨티나", "볼리비아", "브라질", "칠레", "콜롬비아", "에콰도르", "가이아나", "파라과이", "페루", "수리남", "우루과이", "베네수엘라"],
    "아프리카": ["알제리", "앙골라", "베냉", "보츠와나", "부르키나파소", "부룬디", "카보베르데", "카메룬", "중앙아프리카 공화국", "차드", "코모로", "콩고", "코트디부아르", "지부티", "이집트", "적도 기니", "에리트레아", "에스와티니", "에티오피아", "가봉", "감비아", "가나", "기니", "기니비사우", "케냐", "레소토", "라이베리아", "리비아", "마다가스카르", "말라위", "말리", "모리타니아", "모리셔스", "모로코", "모잠비크", "나미비아", "니제르", "나이지리아", "르완다", "상투메 프린시페", "세네갈", "세이셸", "시에라리온", "소말리아", "남아프리카 공화국", "남수단", "수단", "탄자니아", "토고", "튀니지", "우간다", "잠비아", "짐바브웨"],
    "오세아니아": ["오스트레일리아", "피지", "키리바시", "마셜 제도", "미크로네시아 연방", "나우루", "뉴질랜드", "팔라우", "파푸아뉴기니", "사모아", "솔로몬 제도", "통가", "투발루", "바누아투"]
}


def generate(writer, num_datasets, num_countries):
    # 2개부터 6개까지의 대륙 개수에 대해 반복
    for max_continents in range(2, 7):
        dataset_count = 0
        while dataset_count < num_datasets:
            try:
                # 랜덤하게 대륙 선택
                selected_continents = random.sample(list(un_countries.keys()), max_continents)
                selected_countries = []
                remaining_countries = num_countries

                # 선택된 대륙을 국가 수에 따라 정렬
                continent_info = [(continent, len(un_countries[continent])) for continent in selected_continents]
                continent_info.sort(key=lambda x: x[1])

                # 각 대륙에 할당할 국가 수 랜덤 선택
                for idx, (continent, max_available) in enumerate(continent_info):
                    if idx == len(continent_info) - 1:
                        num_countries_continent = remaining_countries
                    else:
                        min_countries = 2 if max_continents <= 4 else 1
                        max_assignable = min(max_available, remaining_countries - (len(continent_info) - idx - 1) * min_countries)
                        num_countries_continent = random.randint(min_countries, max_assignable)

                    selected = random.sample(un_countries[continent], num_countries_continent)
                    selected_countries.extend(selected)
                    remaining_countries -= num_countries_continent

                # 선택된 국가를 랜덤하게 섞어 데이터셋의 텍스트(Text)로 사용
                selected_countries_shuffled = random.sample(selected_countries, len(selected_countries))
                text = f"목록에서 나라를 대륙별로 분류해줘.\n\n{', '.join(selected_countries_shuffled)}"

                # 해당 국가들을 대륙별로 분류한 결과를 완성 텍스트(Completion)로 사용
                completion = "목록에 있는 나라들을 대륙별로 분류하면 다음과 같습니다\n\n"
                for continent in selected_continents:
                    countries = [c for c in selected_countries if c in un_countries[continent]]
                    if countries:
                        completion += f"{continent}: {', '.join(countries)}\n\n"

                # 생성된 데이터셋을 CSV 파일에 저장
                writer.writerow([text, completion.strip()])
                dataset_count += 1
            except ValueError:
                continue


def main():
    filename = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    if rows % 50:
        sys.exit("ROWS must be a multiple of 50")
    unit = rows // 50
    with open(filename, 'w', newline='', encoding='utf-8') as csvfile:
        writer = csv.writer(csvfile)
        writer.writerow(['Text', 'Completion'])
        for num_datasets, num_countries in [(unit, 10), (3 * unit, 15), (3 * unit, 20), (3 * unit, 30)]:
            generate(writer, num_datasets, num_countries)
    print(f"데이터셋이 성공적으로 생성되었습니다. 파일명: {filename}")


if __name__ == '__main__':
    main()
